import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { escalations, outbox, tickets, triageDecisions } from '../../src/store/schema.js'
import { settled as settledHub, tempDir } from '../helpers/hub.js'
import { run } from '../helpers/process.js'
import { editedRules } from '../helpers/rules.js'
import {
  deliver,
  payloads,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

// Wednesday 18 November 2026, 12:00 in Santiago: every calendar is open.
const IN_HOURS = '2026-11-18T15:00:00Z'
// Sunday 22 November 2026, 23:00 in Santiago: the website chat is closed.
const SUNDAY_NIGHT = '2026-11-23T02:00:00Z'

type DryRun = {
  decisions: { decision: Record<string, unknown>; effects: { kind: string }[] }[]
}

describe('the support process of ARCHITECTURE.md §1, end to end through the webhooks', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let send: ReturnType<typeof deliver>
  const clock = manualClock(IN_HOURS)

  beforeAll(async () => {
    up = await startUpstreams()
  })
  afterAll(async () => {
    await up.close()
  })
  beforeEach(async () => {
    clock.set(IN_HOURS)
    up.sink.received.length = 0
    up.sms.requests.length = 0
    up.push.published.length = 0
    t = supportHub(up, { clock })
    send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
  })
  afterEach(async () => {
    await t.close()
  })

  const lastDecision = () =>
    waitFor(() => t.hub.db.select().from(triageDecisions).all().at(-1), { what: 'a decision' })
  const settled = () => settledHub(t.hub)
  /** A customer's message in a Chatwoot conversation, triaged and acted on. */
  const chatwootSays = async (
    conversation: number,
    contact: { id: number; name: string; email: string },
    id: number,
    text: string,
  ) => {
    const decided = () => t.hub.db.select().from(triageDecisions).all().length
    const before = decided()
    await send.chatwoot(payloads.chatwoot(id, conversation, text, contact), `says-${id}`)
    await waitFor(() => decided() > before, { what: `the decision on message ${id}` })
    await settled()
  }
  const ticketOf = (conversationId: number) =>
    t.hub.db.select().from(tickets).where(eq(tickets.conversationId, conversationId)).get()

  it('website pre-sale (Tawk.to) → ventas, acknowledged by email, round-robin to an online agent', async () => {
    const sale = payloads.tawkChat(
      'c-sale',
      'hola, quiero comprar 3 sillas de escritorio, tienen stock?',
      {
        name: 'Marta',
        email: 'marta@example.cl',
      },
    )
    expect((await send.tawk(sale, 'e1')).status).toBe(200)
    expect(await lastDecision()).toMatchObject({ intent: 'sales', queue: 'ventas' })
    await settled()
    const [ack] = up.sink.to('marta@example.cl')
    expect(ack!.parsed.text).toMatch(/^Hola Marta, recibimos tu mensaje/)
    const conversation = [...up.chatwoot.conversations.values()].at(-1)!
    const key = `1:${conversation.id}`
    // Team ventas (id 2), then its next online agent: 21, then 23 (22 is offline).
    expect(up.chatwoot.assignments.get(key)).toEqual({ assignee_id: 21 })
    await send.tawk(
      payloads.tawkChat('c-sale-2', 'quiero comprar una mesa de centro, cuanto cuesta?', {
        email: 'otro@example.cl',
      }),
      'e2',
    )
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'the second sale',
    })
    await settled()
    const second = [...up.chatwoot.conversations.values()].at(-1)!
    expect(up.chatwoot.assignments.get(`1:${second.id}`)).toEqual({ assignee_id: 23 })
    expect(up.chatwoot.violations()).toEqual([])
  })

  it('round-robin gives two sales that arrive together to two different agents', async () => {
    // Chatwoot answers slowly, so each assignment picks its agent while the other one's call is
    // still out.
    up.chatwoot.answerLate({ match: /team_members$|assignments$/, times: 6, delayMs: 200 })
    const chats = [
      payloads.tawkChat('c-pair-1', 'quiero comprar 3 sillas de escritorio, tienen stock?', {
        email: 'par1@example.cl',
      }),
      payloads.tawkChat('c-pair-2', 'quiero comprar una mesa de centro, cuanto cuesta?', {
        email: 'par2@example.cl',
      }),
    ]
    const known = up.chatwoot.conversations.size
    await Promise.all(chats.map((c, i) => send.tawk(c, `pair-${i}`)))
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'both sales',
    })
    await settled()
    const assigned = [...up.chatwoot.conversations.values()]
      .slice(known)
      .map((c) => up.chatwoot.assignments.get(`1:${c.id}`)?.assignee_id)
    expect(assigned.sort()).toEqual([21, 23])
  })

  it.each([
    {
      // Chatwoot assigns the agent, then the connection drops before its answer: the retry
      // finds the agent in place and leaves it.
      lost: 'the answer',
      who: 'answer-lost',
      fault: { status: 200, afterAccept: true },
      calls: [21],
    },
    {
      // The connection drops before Chatwoot does anything: the retry assigns the agent this
      // effect picked, not the next one in turn.
      lost: 'the call',
      who: 'call-lost',
      fault: { status: 0 },
      calls: [21, 21],
    },
  ])(
    'round-robin: a retry after losing $lost keeps its agent, and the turn moves once',
    async ({ who, fault, calls }) => {
      up.chatwoot.fail({ ...fault, match: /assignments$/, skip: 1, times: 1 })
      const sale = (chat: string, email: string) =>
        payloads.tawkChat(chat, 'quiero comprar 3 sillas de escritorio, tienen stock?', { email })
      const before = up.chatwoot.requests.length
      // New customers each time: the fake Chatwoot outlives each test's hub.
      expect((await send.tawk(sale('c-retry-1', `${who}-1@example.cl`), 'r1')).status).toBe(200)
      const first = await waitFor(
        () =>
          t.hub.db
            .select()
            .from(outbox)
            .where(eq(outbox.kind, 'chatwoot.assign'))
            .all()
            .find((e) => e.lastError !== null && e.status === 'pending'),
        { what: 'the assignment waiting for its retry' },
      )
      clock.advance(60_000)
      t.hub.dispatcher.wake()
      await settled()
      expect(t.hub.db.select().from(outbox).where(eq(outbox.id, first.id)).get()).toMatchObject({
        status: 'done',
        attempts: 2,
      })
      const agentCalls = () =>
        up.chatwoot.requests
          .slice(before)
          .filter((r) => r.path.endsWith('/assignments'))
          .map((r) => (r.body as { assignee_id?: number }).assignee_id)
          .filter((id) => id !== undefined)
      // Nobody else got the conversation.
      expect(agentCalls()).toEqual(calls)
      await send.tawk(sale('c-retry-2', `${who}-2@example.cl`), 'r2')
      await waitFor(() => agentCalls().length === calls.length + 1, {
        what: 'the second sale assigned',
      })
      expect(agentCalls().at(-1)).toBe(23)
    },
  )

  it('mirrors a conversation once when the hub lost the answer to its create; the next message waits its turn', async () => {
    // Chatwoot creates the mirror, but its answer never arrives: the hub cannot record it. The
    // customer's next message (same conversation) is triaged before that effect's retry; its
    // effects wait for the first message's, so Chatwoot gets the messages in their order.
    up.chatwoot.fail({
      status: 200,
      afterAccept: true,
      match: /^POST \/api\/v1\/accounts\/1\/conversations$/,
      times: 1,
    })
    const known = up.chatwoot.conversations.size
    const user = { id: 'u-mirror-once', role: 'cliente' as const, name: 'Ana Pérez' }
    const said = (id: string, text: string) => send.internal(payloads.internal(id, user, text), id)
    expect((await said('mo-1', 'la app no me deja iniciar sesión')).status).toBe(200)
    const mirrors = () =>
      t.hub.db.select().from(outbox).where(eq(outbox.kind, 'chatwoot.mirror')).all()
    await waitFor(() => mirrors().some((e) => e.lastError !== null && e.status === 'pending'), {
      what: 'the first mirror waiting for its retry',
    })
    expect((await said('mo-2', 'sigo sin poder entrar, me da error')).status).toBe(200)
    await waitFor(() => mirrors().length === 2, { what: "the second message's mirror queued" })
    t.hub.dispatcher.wake()
    await t.hub.dispatcher.idle()
    // Its turn has not come: the first message's mirror is still to be retried.
    expect(mirrors().map((e) => e.status)).toEqual(['pending', 'pending'])
    expect(mirrors()[1]!.attempts).toBe(0)
    clock.advance(60_000)
    t.hub.dispatcher.wake()
    await waitFor(() => mirrors().every((e) => e.status === 'done'), { what: 'both mirrors' })
    await settled()
    const conversationId = t.hub.db.select().from(triageDecisions).all().at(-1)!.conversationId
    const inChatwoot = [...up.chatwoot.conversations.values()]
      .slice(known)
      .filter((c) => c.custom_attributes.centralita_conversation === conversationId)
    expect(inChatwoot).toHaveLength(1)
    const incoming = up.chatwoot.messages
      .get(`1:${inChatwoot[0]!.id}`)!
      .filter((m) => m.message_type === 'incoming')
    expect(incoming.map((m) => m.content)).toEqual([
      'la app no me deja iniciar sesión',
      'sigo sin poder entrar, me da error',
    ])
  })

  it('round-robin: a follow-up in the same conversation stays with its agent', async () => {
    const contact = { id: 81, name: 'Jorge', email: 'jorge@example.cl' }
    const before = up.chatwoot.requests.length
    await send.chatwoot(
      payloads.chatwoot(8101, 810, 'quiero comprar 3 sillas de escritorio, tienen stock?', contact),
      'follow-1',
    )
    await waitFor(() => up.chatwoot.assignees.get('1:810'), { what: 'the first assignment' })
    await send.chatwoot(
      payloads.chatwoot(8102, 810, 'y tambien quiero comprar una mesa, la tienen?', contact),
      'follow-2',
    )
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'the follow-up triaged',
    })
    await settled()
    const agentCalls = up.chatwoot.requests
      .slice(before)
      .filter((r) => r.path.endsWith('/810/assignments'))
      .flatMap((r) => {
        const agent = (r.body as { assignee_id?: number }).assignee_id
        return agent === undefined ? [] : [agent]
      })
    // One agent, once: the follow-up kept the conversation where it was.
    expect(agentCalls).toEqual([21])
    expect(up.chatwoot.assignees.get('1:810')).toBe(21)
    expect(up.chatwoot.violations()).toEqual([])
  })

  it('round-robin: two messages of one conversation at once give it one agent', async () => {
    // Chatwoot answers "who has it" late, so both assignments would read "nobody".
    up.chatwoot.answerLate({ match: /^GET .*\/conversations\/820$/, times: 2, delayMs: 200 })
    const contact = { id: 82, name: 'Elena', email: 'elena@example.cl' }
    const reassignedBefore = up.chatwoot.reassigned.length
    await Promise.all([
      send.chatwoot(
        payloads.chatwoot(8201, 820, 'quiero comprar 3 sillas de escritorio', contact),
        'pair-conv-1',
      ),
      send.chatwoot(
        payloads.chatwoot(8202, 820, 'y quiero comprar una mesa de centro', contact),
        'pair-conv-2',
      ),
    ])
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'both messages triaged',
    })
    await settled()
    expect(up.chatwoot.assignees.get('1:820')).toBe(21)
    expect(up.chatwoot.reassigned.slice(reassignedBefore)).toEqual([])
  })

  it('website FAQ (Tawk.to) → answered from the knowledge base, no ticket', async () => {
    await send.tawk(
      payloads.tawkTicket('t-faq', 'Envíos', '¿cuánto cuesta el envío a regiones?', {
        name: 'Camila',
        email: 'camila@example.cl',
      }),
      'e3',
    )
    expect(await lastDecision()).toMatchObject({ intent: 'faq', priority: 'baja' })
    await settled()
    expect(up.sink.to('camila@example.cl')[0]!.parsed.text).toMatch(/regiones/)
    expect(t.hub.db.select().from(tickets).all()).toHaveLength(0)
  })

  it('B2B quotation (Tawk.to → email) → comercial, a ticket with its response time', async () => {
    await send.tawk(
      payloads.tawkTicket(
        't-quote',
        'Cotización',
        'necesito una cotización para 40 unidades para nuestra empresa',
        { name: 'Jorge Díaz', email: 'compras@empresa-b2b.cl' },
      ),
      'e4',
    )
    const decision = await lastDecision()
    expect(decision).toMatchObject({ intent: 'quote', queue: 'comercial', priority: 'media' })
    const ticket = ticketOf(decision.conversationId)!
    expect(ticket).toMatchObject({
      type: 'consulta',
      queue: 'comercial',
      priority: 'media',
      status: 'abierto',
    })
    expect(ticket.firstResponseDueAt).toBe(Date.parse(IN_HOURS) + 4 * 3_600_000)
    await settled()
    const [ack] = up.sink.to('compras@empresa-b2b.cl')
    expect(ack!.parsed.text).toContain(ticket.number)
    expect(ack!.parsed.text).toMatch(/4 horas/)
  })

  it('complaint on any channel (WhatsApp) → calidad, ticket reclamo, L1 with its owner alerted', async () => {
    await send.whatsapp(
      payloads.whatsapp(
        'wamid.C1',
        '56911112222',
        'Pedro',
        'pésima atención, el pedido llegó roto y nadie me responde',
        clock.now(),
      ),
    )
    const decision = await lastDecision()
    expect(decision).toMatchObject({ intent: 'complaint', queue: 'calidad', level: 'L1' })
    const ticket = ticketOf(decision.conversationId)!
    expect(ticket).toMatchObject({ type: 'reclamo', queue: 'calidad', level: 'L1' })
    const [escalation] = t.hub.db.select().from(escalations).all()
    expect(escalation).toMatchObject({
      fromLevel: null,
      toLevel: 'L1',
      status: 'pendiente',
      reason: 'reclamo estándar',
    })
    expect(escalation!.slaDueAt).toBe(Date.parse(IN_HOURS) + 4 * 3_600_000)
    await settled()
    // L1: push and email to the general admin (escalation.yaml).
    expect(up.push.published).toEqual([
      expect.objectContaining({ topic: 'general', title: expect.stringContaining('[L1]') }),
    ])
    expect(up.sink.to('admin@empresa.example')[0]!.header('auto-submitted')).toBe('auto-generated')
    expect(up.sms.requests).toEqual([])
    // Never answered automatically.
    expect(up.graph.sent).toEqual([])
  })

  it("registered customer (internal chat) → their operator; an operator's till problem → finanzas", async () => {
    await send.internal(
      payloads.internal(
        'm-1',
        { id: 'cli-9', role: 'cliente', name: 'Ana' },
        'la app no me deja iniciar sesión, me dice error de contraseña',
        'op-12',
      ),
      'w-1',
    )
    expect(await lastDecision()).toMatchObject({ intent: 'support', queue: 'general' })
    await send.internal(
      payloads.internal(
        'm-2',
        { id: 'op-12', role: 'operador', name: 'Luis' },
        'la caja no me cuadra, el pago con tarjeta salió rechazado',
      ),
      'w-2',
    )
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'the operator message',
    })
    expect(await lastDecision()).toMatchObject({
      intent: 'payment',
      queue: 'finanzas',
      priority: 'alta',
    })
  })

  it('out of hours (Tawk.to on a Sunday night) → the notice says when the team is back', async () => {
    clock.set(SUNDAY_NIGHT)
    await send.tawk(
      payloads.tawkChat('c-ooh', 'quiero comprar 3 sillas de escritorio, tienen stock?', {
        name: 'Marta',
        email: 'marta@example.cl',
      }),
      'e5',
    )
    const decision = await lastDecision()
    expect(JSON.parse(decision.actions).reply).toEqual({ kind: 'out_of_hours' })
    await settled()
    expect(up.sink.to('marta@example.cl')[0]!.parsed.text).toMatch(
      /fuera de horario; te responderemos mañana a las 9:00/,
    )
  })

  it('the out-of-hours notice goes once a day per conversation', async () => {
    clock.set(SUNDAY_NIGHT)
    const first = payloads.email(
      'ooh-1@example.cl',
      'Inés <ines@example.cl>',
      'Compra',
      'quiero comprar 3 sillas de escritorio',
    )
    await send.email(first)
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 1, {
      what: 'the first',
    })
    clock.advance(20 * 60_000)
    const followUp = [
      'From: Inés <ines@example.cl>',
      `To: soporte@tienda.example`,
      'Subject: Re: Compra',
      'Message-ID: <ooh-2@example.cl>',
      'In-Reply-To: <ooh-1@example.cl>',
      'References: <ooh-1@example.cl>',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'y también quiero comprar una mesa de centro',
    ].join('\r\n')
    await send.email(followUp)
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'the second',
    })
    await settled()
    expect(up.sink.to('ines@example.cl')).toHaveLength(1)
    const second = t.hub.db.select().from(triageDecisions).all()[1]!
    expect(JSON.parse(second.explanation).reasons.join(' ')).toMatch(
      /out-of-hours notice already went/,
    )
  })

  it('no automatic answer right after a person answered the conversation', async () => {
    const agent = {
      ...payloads.chatwoot(8101, 612, 'Hola, te ayudo con tu pedido.', { id: 55, name: 'Iván' }),
      message_type: 'outgoing',
      created_at: clock.now().toISOString(),
      sender: { id: 41, name: 'Paula', type: 'user' },
    }
    expect((await send.chatwoot(agent, 'cw-agent')).status).toBe(200)
    clock.advance(5 * 60_000)
    await send.chatwoot(
      payloads.chatwoot(8102, 612, '¿cuál es el horario de atención?', { id: 55, name: 'Iván' }),
      'cw-q',
    )
    const decision = await lastDecision()
    expect(decision.intent).toBe('faq')
    expect(JSON.parse(decision.explanation).reasons.join(' ')).toMatch(
      /a person answered this conversation/,
    )
    await settled()
    expect((up.chatwoot.messages.get('1:612') ?? []).filter((m) => !m.private)).toEqual([])
  })

  it('a complaint about an operator on an improvement plan starts at L2', async () => {
    await t.close()
    const rules = editedRules({
      'escalation.yaml': (text) =>
        text.replace('improvement_plan: []', 'improvement_plan: [op-07]'),
    })
    try {
      t = supportHub(up, { clock, env: { RULES_DIR: rules.dir } })
      send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
      await send.internal(
        payloads.internal(
          'm-ip',
          { id: 'cli-3', role: 'cliente', name: 'Eva' },
          'pésima atención de mi ejecutivo, nunca responde y me trata mal',
          'op-07',
        ),
        'w-ip',
      )
      const decision = await lastDecision()
      expect(decision).toMatchObject({ intent: 'complaint', level: 'L2', queue: 'supervisor' })
      const [escalation] = t.hub.db.select().from(escalations).all()
      expect(escalation!.reason).toBe('operador en plan de mejora')
    } finally {
      rules.cleanup()
    }
  })

  it('a repeat complainer (3 in the window) → supervisor at L2: push, email and SMS', async () => {
    const complaints = [
      'el pedido llegó roto, pésimo',
      'otra vez llegó mal el pedido, es el colmo',
      'tercera vez que llega roto, pésimo servicio',
    ]
    for (const [i, text] of complaints.entries()) {
      await send.email(
        payloads.email(`rc-${i}@example.cl`, 'Rosa <rosa@example.cl>', `Reclamo ${i}`, text),
      )
      await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === i + 1, {
        what: `complaint ${i + 1}`,
      })
      clock.advance(3_600_000)
    }
    const third = t.hub.db.select().from(triageDecisions).all().at(-1)!
    expect(third).toMatchObject({ intent: 'complaint', queue: 'supervisor', level: 'L2' })
    expect(JSON.parse(third.signals)).toContain('repeat_complainer')
    await settled()
    expect(up.sms.requests).toEqual([
      expect.objectContaining({ kind: 'message', to: '+56900000002' }),
    ])
    expect(up.sms.violations()).toEqual([])
  })

  it('a claim of $800 (email) → supervisor at L2 with the amount as the reason', async () => {
    await send.email(
      payloads.email(
        'claim-1@example.cl',
        'Luis <luis@example.cl>',
        'Devolución',
        'exijo la devolución de los $800 que pagué por un producto defectuoso',
      ),
    )
    const decision = await lastDecision()
    expect(decision).toMatchObject({ queue: 'supervisor', level: 'L2', amount: 800 })
    const [escalation] = t.hub.db.select().from(escalations).all()
    expect(escalation!.reason).toMatch(/800/)
  })

  it('a scratched car (Chatwoot) → legal at L3: push, email, SMS and a phone call', async () => {
    await send.chatwoot(
      payloads.chatwoot(7001, 451, 'el técnico que vino ayer me rayó el auto al estacionar', {
        id: 88,
        name: 'Carla',
      }),
      'cw-1',
    )
    const decision = await lastDecision()
    expect(decision).toMatchObject({
      intent: 'complaint',
      queue: 'legal',
      level: 'L3',
      priority: 'critica',
    })
    await settled()
    expect(up.chatwoot.assignments.get('1:451')).toEqual({ team_id: 7 })
    expect(up.sms.requests.map((r) => r.kind).sort()).toEqual(['call', 'message'])
    const call = up.sms.requests.find((r) => r.kind === 'call')!
    expect(call.to).toBe('+56900000003')
    expect(call.body).toMatch(/^<Response><Say language="es-MX">\[L3\]/)
    expect(up.push.published[0]).toMatchObject({ topic: 'legal', priority: 5 })
  })

  it('a follow-up in an open legal case stays with legal, at its priority', async () => {
    const carla = { id: 89, name: 'Carla', email: 'carla@example.cl' }
    await send.chatwoot(
      payloads.chatwoot(7101, 452, 'el técnico que vino ayer me rayó el auto al estacionar', carla),
      'case-1',
    )
    expect(await lastDecision()).toMatchObject({ queue: 'legal', priority: 'critica' })
    await settled()
    expect(up.chatwoot.priorities.get('1:452')).toBe('urgent')
    // Two follow-ups that would go elsewhere on their own: a sale (ventas, media) and an FAQ.
    await chatwootSays(452, carla, 7102, 'y quiero comprar 3 sillas de escritorio, tienen stock?')
    await chatwootSays(452, carla, 7103, '¿a qué hora abren el sábado?')
    const [, sale, faq] = t.hub.db.select().from(triageDecisions).all()
    // Each message is still classified as what it is...
    expect(sale).toMatchObject({ intent: 'sales', queue: 'ventas' })
    expect(faq).toMatchObject({ intent: 'faq' })
    expect(JSON.parse(sale!.explanation).reasons.join('\n')).toMatch(
      /part of open case TK-2026-\d{6}: handed to its queue legal at priority critica/,
    )
    // ...but the case keeps its team, its priority in the inbox and its labels.
    expect(up.chatwoot.assignments.get('1:452')).toEqual({ team_id: 7 })
    expect(up.chatwoot.priorities.get('1:452')).toBe('urgent')
    expect(up.chatwoot.labels.get('1:452')).not.toContain('baja')
    expect(up.chatwoot.labels.get('1:452')).not.toContain('media')
    expect(
      up.chatwoot.requests.filter(
        (r) => r.path === '/api/v1/accounts/1/conversations/452/assignments',
      ),
    ).not.toContainEqual(expect.objectContaining({ body: { team_id: 2 } }))
  })

  it('a complaint case a threat made urgent stays urgent through a follow-up', async () => {
    const rosa = { id: 90, name: 'Rosa', email: 'rosa@example.cl' }
    await chatwootSays(
      453,
      rosa,
      7201,
      'el producto llegó roto y nadie me responde, pésimo servicio',
    )
    expect(up.chatwoot.priorities.get('1:453')).toBe('medium')
    await chatwootSays(453, rosa, 7202, 'si no me devuelven el dinero los voy a demandar')
    await chatwootSays(453, rosa, 7203, '¿a qué hora abren el sábado?')
    const [complaint, threat] = t.hub.db.select().from(triageDecisions).all()
    expect(complaint).toMatchObject({ queue: 'calidad', priority: 'media' })
    expect(threat).toMatchObject({ queue: 'legal', priority: 'critica', level: 'L3' })
    // The ticket moved to legal at L3; the FAQ after it leaves the case urgent, with legal.
    expect(t.hub.db.select().from(tickets).all()).toMatchObject([{ queue: 'legal', level: 'L3' }])
    expect(up.chatwoot.priorities.get('1:453')).toBe('urgent')
    expect(up.chatwoot.assignments.get('1:453')).toEqual({ team_id: 7 })
  })

  it('a message that moves its open case up hands it to the queue the case moved to', async () => {
    // Complaints start urgent here (alta, L1), so a claim over $500 (alta, L2) is no more
    // urgent than its case: it is handed on within the case, as the case stands after it.
    await t.close()
    const rules = editedRules({
      'routing.yaml': (text) =>
        text.replace(
          'then: { queue: calidad, priority: media, level: L1',
          'then: { queue: calidad, priority: alta, level: L1',
        ),
    })
    try {
      t = supportHub(up, { clock, env: { RULES_DIR: rules.dir } })
      send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
      const sara = { id: 91, name: 'Sara', email: 'sara@example.cl' }
      await chatwootSays(454, sara, 7301, 'el producto llegó roto, pésimo servicio')
      expect(up.chatwoot.assignments.get('1:454')).toEqual({ team_id: 5 })
      await chatwootSays(
        454,
        sara,
        7302,
        'exijo la devolución de los $800 que pagué por ese producto defectuoso',
      )
      const claim = t.hub.db.select().from(triageDecisions).all().at(-1)!
      expect(claim).toMatchObject({ queue: 'supervisor', priority: 'alta', level: 'L2' })
      expect(JSON.parse(claim.explanation).reasons.join('\n')).not.toMatch(/part of open case/)
      expect(t.hub.db.select().from(tickets).all()).toMatchObject([
        { queue: 'supervisor', level: 'L2', priority: 'alta' },
      ])
      expect(up.chatwoot.assignments.get('1:454')).toEqual({ team_id: 6 })
    } finally {
      rules.cleanup()
    }
  })

  it('dry-run prints the planned actions of each row of the matrix', () => {
    const dir = tempDir()
    try {
      const rows: [string, string, unknown, (out: DryRun) => void][] = [
        [
          'tawkto',
          'sale.json',
          payloads.tawkChat('d1', 'quiero comprar 3 sillas de escritorio, tienen stock?', {
            email: 'm@x.cl',
          }),
          (o) => expect(o.decisions[0]!.decision.queue).toBe('ventas'),
        ],
        [
          'tawkto',
          'quote.json',
          payloads.tawkTicket(
            'd2',
            'Cotización',
            'necesito una cotización para 40 unidades para nuestra empresa',
            {
              name: 'J',
              email: 'j@x.cl',
            },
          ),
          (o) => expect(o.decisions[0]!.decision.queue).toBe('comercial'),
        ],
        [
          'internal',
          'operator.json',
          payloads.internal(
            'd3',
            { id: 'op-1', role: 'operador', name: 'L' },
            'la caja no me cuadra, el pago con tarjeta salió rechazado',
          ),
          (o) => expect(o.decisions[0]!.decision.queue).toBe('finanzas'),
        ],
        [
          'chatwoot',
          'car.json',
          payloads.chatwoot(1, 2, 'el técnico que vino ayer me rayó el auto al estacionar', {
            id: 3,
            name: 'C',
          }),
          (o) => {
            expect(o.decisions[0]!.decision.level).toBe('L3')
            expect(o.decisions[0]!.effects.map((e) => e.kind)).toContain('chatwoot.assign')
          },
        ],
      ]
      for (const [channel, file, payload, check] of rows) {
        const path = join(dir.dir, file)
        writeFileSync(path, JSON.stringify(payload))
        const out = run(['dry-run', '--channel', channel, '--at', IN_HOURS, path], '', {
          CHATWOOT_BASE_URL: 'http://127.0.0.1:9',
          CHATWOOT_API_TOKEN: 'token',
          CHATWOOT_ACCOUNT_ID: '1',
          CHATWOOT_MIRROR_INBOX_ID: '9',
          SMTP_URL: 'smtp://127.0.0.1:9',
          EMAIL_FROM: 'Soporte <soporte@tienda.example>',
        })
        expect(out.code, `${channel} ${file}: ${out.stderr}`).toBe(0)
        check(JSON.parse(out.stdout) as DryRun)
      }
      const mail = join(dir.dir, 'claim.eml')
      writeFileSync(
        mail,
        payloads.email(
          'd5@x.cl',
          'L <l@x.cl>',
          'Devolución',
          'exijo la devolución de los $800 que pagué por un producto defectuoso',
        ),
      )
      const claim = JSON.parse(
        run(['dry-run', '--channel', 'email', '--at', IN_HOURS, mail]).stdout,
      )
      expect(claim.decisions[0].decision).toMatchObject({ level: 'L2', queue: 'supervisor' })
    } finally {
      dir.cleanup()
    }
  })
})
