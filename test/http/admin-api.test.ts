import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { tickets, triageDecisions } from '../../src/store/schema.js'
import { settled as settledHub, testHub } from '../helpers/hub.js'
import {
  channelEnv,
  deliver,
  payloads,
  SECRETS,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

const H = 3_600_000
const START = Date.parse('2026-11-18T15:00:00Z')

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field in the assertions
type Json = Record<string, any>

describe('admin API (/api, bearer token)', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let send: ReturnType<typeof deliver>
  let base: string
  const clock = manualClock(new Date(START))

  beforeAll(async () => {
    up = await startUpstreams()
  })
  afterAll(async () => {
    await up.close()
  })
  beforeEach(async () => {
    clock.set(new Date(START))
    up.graph.sent.length = 0
    up.sms.requests.length = 0
    t = supportHub(up, { clock })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
    send = deliver(base, clock)
  })
  afterEach(async () => {
    await t.close()
  })

  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await send.api(path, init)
    return { status: res.status, body: (await res.json()) as Json }
  }
  const settled = () => settledHub(t.hub)
  const complaint = async () => {
    await send.whatsapp(
      payloads.whatsapp(
        'wamid.A1',
        '56911112222',
        'Pedro',
        'pésima atención, el pedido llegó roto y nadie me responde',
        clock.now(),
      ),
    )
    return waitFor(() => t.hub.db.select().from(tickets).get(), { what: 'the ticket' })
  }

  it('refuses requests without the right bearer token', async () => {
    expect((await fetch(`${base}/api/tickets`)).status).toBe(401)
    const wrong = await fetch(`${base}/api/tickets`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer')
  })

  it('lists tickets with their urgency and shows one with every interaction, decision and escalation', async () => {
    const ticket = await complaint()
    const list = await api('/tickets?status=open')
    expect(list.body.tickets).toEqual([
      expect.objectContaining({
        id: ticket.id,
        number: ticket.number,
        queue: 'calidad',
        level: 'L1',
        urgency: 'normal',
      }),
    ])
    // Urgency follows the deadline: the first response is due in 4 h.
    clock.set(new Date(START + 3.5 * H))
    expect((await api('/tickets')).body.tickets[0].urgency).toBe('critico')
    clock.set(new Date(START + 5 * H))
    expect((await api('/tickets')).body.tickets[0].urgency).toBe('vencido')

    const detail = await api(`/tickets/${ticket.id}`)
    expect(detail.status).toBe(200)
    expect(detail.body.interactions).toEqual([
      expect.objectContaining({
        direction: 'inbound',
        text: 'pésima atención, el pedido llegó roto y nadie me responde',
      }),
    ])
    expect(detail.body.decisions[0]).toMatchObject({ intent: 'complaint', level: 'L1' })
    expect(detail.body.escalations[0]).toMatchObject({ toLevel: 'L1', status: 'pendiente' })
    expect(detail.body.contact).toMatchObject({ name: 'Pedro', phone: '+56911112222' })
    expect((await api('/tickets/9999')).status).toBe(404)
    expect((await api('/tickets?level=L9')).status).toBe(400)
  })

  it('escalates by hand with a reason, and shows open escalations with their urgencia', async () => {
    const ticket = await complaint()
    await settled()
    up.sms.requests.length = 0
    const escalated = await api(`/tickets/${ticket.id}/escalate`, {
      method: 'POST',
      body: {
        level: 'L3',
        reason: 'el cliente menciona a su abogado por teléfono',
        notes: 'llamó a las 12:05',
        by: 'marta',
      },
    })
    expect(escalated.status).toBe(201)
    expect(escalated.body.escalation).toMatchObject({
      fromLevel: 'L1',
      toLevel: 'L3',
      escalatedBy: 'marta',
      notes: 'llamó a las 12:05',
      status: 'pendiente',
    })
    await settled()
    expect(up.sms.requests.map((r) => r.kind).sort()).toEqual(['call', 'message'])
    const again = await api(`/tickets/${ticket.id}/escalate`, {
      method: 'POST',
      body: { level: 'L2', reason: 'otra vez' },
    })
    expect(again.status).toBe(409)
    const bad = await api(`/tickets/${ticket.id}/escalate`, {
      method: 'POST',
      body: { level: 'L4', reason: 'x' },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/^level/)

    clock.set(new Date(START + 45 * H))
    const active = await api('/escalations')
    expect(active.body.escalations).toEqual([
      expect.objectContaining({
        toLevel: 'L3',
        ticket: ticket.number,
        queue: 'legal',
        urgencia: 'advertencia',
      }),
    ])
    // The same list as an SQL view, for reports.
    const view = t.hub.db.$client
      .prepare('select ticket, level, urgencia from escalamientos_activos')
      .all()
    expect(view).toEqual([
      {
        ticket: ticket.number,
        level: 'L3',
        urgencia: expect.stringMatching(/^(vencido|critico|advertencia|normal)$/),
      },
    ])

    const id = active.body.escalations[0].id
    const accepted = await api(`/escalations/${id}/accept`, {
      method: 'POST',
      body: { by: 'legal-ana' },
    })
    expect(accepted.body.escalation).toMatchObject({
      status: 'en_proceso',
      receivedBy: 'legal-ana',
    })
    const resolved = await api(`/escalations/${id}/resolve`, {
      method: 'POST',
      body: { status: 'resuelto', resolution: 'acuerdo con el cliente' },
    })
    expect(resolved.body.escalation).toMatchObject({
      status: 'resuelto',
      resolution: 'acuerdo con el cliente',
    })
    expect((await api('/escalations')).body.escalations).toEqual([])
  })

  it('moves a ticket through its states, sends the survey on resolution and records the score', async () => {
    const ticket = await complaint()
    const started = await api(`/tickets/${ticket.id}/status`, {
      method: 'POST',
      body: { status: 'en_proceso' },
    })
    expect(started.body.ticket.status).toBe('en_proceso')
    const resolved = await api(`/tickets/${ticket.id}/status`, {
      method: 'POST',
      body: { status: 'resuelto', note: 'reembolsado' },
    })
    expect(resolved.body).toMatchObject({ ticket: { status: 'resuelto' }, survey: 'sent' })
    await settled()
    expect(up.graph.sent.at(-1)!.text).toMatch(
      /^Hola Pedro, dimos por resuelto tu caso TK-2026-\d+\. ¿Cómo evaluarías/,
    )
    const reopen = await api(`/tickets/${ticket.id}/status`, {
      method: 'POST',
      body: { status: 'abierto' },
    })
    expect(reopen.status).toBe(409)

    // The customer answers the survey: a score, not a new request.
    clock.advance(10 * 60_000)
    await send.whatsapp(payloads.whatsapp('wamid.A2', '56911112222', 'Pedro', '5', clock.now()))
    await waitFor(() => t.hub.db.select().from(tickets).get()!.satisfaction === 5, {
      what: 'the score',
    })
    expect(t.hub.db.select().from(triageDecisions).all()).toHaveLength(1)
  })

  it('assigns tickets, summarises queues and lists conversations with their decisions', async () => {
    const ticket = await complaint()
    const assigned = await api(`/tickets/${ticket.id}/assign`, {
      method: 'POST',
      body: { assignee: 'paula', queue: 'supervisor' },
    })
    expect(assigned.body.ticket).toMatchObject({ assignee: 'paula', queue: 'supervisor' })
    const unknown = await api(`/tickets/${ticket.id}/assign`, {
      method: 'POST',
      body: { assignee: 'x', queue: 'nope' },
    })
    expect(unknown.status).toBe(400)

    clock.set(new Date(START + 90 * 60_000))
    const queues = await api('/queues')
    expect(queues.body.queues.find((q: Json) => q.id === 'supervisor')).toMatchObject({
      open: 1,
      unanswered: 1,
      byPriority: { media: 1 },
      oldestWaitingMinutes: 90,
    })
    expect(queues.body.queues.find((q: Json) => q.id === 'ventas')).toMatchObject({
      open: 0,
      oldestWaitingAt: null,
    })

    const conversations = await api('/conversations?channel=whatsapp')
    expect(conversations.body.conversations[0]).toMatchObject({
      channel: 'whatsapp',
      lastDecision: { intent: 'complaint' },
    })
    const one = await api(`/conversations/${conversations.body.conversations[0].id}`)
    expect(one.body.messages[0].decision).toMatchObject({ intent: 'complaint' })
    expect(one.body.tickets[0]).toMatchObject({ number: ticket.number })

    const channels = await api('/channels')
    expect(channels.body.channels).toEqual(
      expect.arrayContaining([
        { id: 'whatsapp', kind: 'channel', inbound: 'enabled' },
        { id: 'sms', kind: 'notifications', inbound: expect.stringMatching(/^disabled/) },
      ]),
    )
  })
})

describe('answering and noting from the admin API, with alerts that cannot go out', () => {
  let up: Upstreams
  let t: ReturnType<typeof testHub>
  let send: ReturnType<typeof deliver>
  const clock = manualClock(new Date(START))

  beforeAll(async () => {
    up = await startUpstreams()
    // No push, SMS or call provider: an L3 escalation's alerts by those means cannot go out.
    t = testHub({ ADMIN_TOKEN: SECRETS.admin, ...channelEnv(up) }, { clock })
    send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
  })
  afterAll(async () => {
    await t.close()
    await up.close()
  })
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await send.api(path, init)
    return { status: res.status, body: (await res.json()) as Json }
  }

  it('sends a reply through the outbox once, records notes, and shows alerts not sent with why', async () => {
    await send.whatsapp(
      payloads.whatsapp(
        'wamid.R1',
        '56933334444',
        'Inés',
        'el pedido llegó roto y nadie me responde',
        clock.now(),
      ),
    )
    const ticket = await waitFor(() => t.hub.db.select().from(tickets).get(), { what: 'a ticket' })
    await settledHub(t.hub)
    const reply = {
      text: 'Hola Inés, ya lo estamos revisando.',
      nonce: 'form-nonce-0001',
      by: 'paula',
    }
    const first = await api(`/tickets/${ticket.id}/reply`, { method: 'POST', body: reply })
    expect(first).toMatchObject({ status: 201, body: { channel: 'whatsapp', sent: 'queued' } })
    // The same form sent twice (a double click, a retry) is one message.
    const again = await api(`/tickets/${ticket.id}/reply`, { method: 'POST', body: reply })
    expect(again.body.sent).toBe('already queued')
    await settledHub(t.hub)
    expect(up.graph.sent.filter((m) => m.text === reply.text)).toHaveLength(1)
    expect(
      (await api(`/tickets/${ticket.id}/reply`, { method: 'POST', body: { text: ' ' } })).status,
    ).toBe(400)
    expect(
      (
        await api(`/tickets/${ticket.id}/note`, {
          method: 'POST',
          body: { text: 'Llamar mañana', by: 'paula' },
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await api(`/tickets/${ticket.id}/escalate`, {
          method: 'POST',
          body: { level: 'L3', reason: 'menciona a su abogado', by: 'paula' },
        })
      ).status,
    ).toBe(201)
    const story = (await api(`/tickets/${ticket.id}`)).body
    expect(story.ticket).toMatchObject({ firstResponseBy: 'paula', dueKind: 'resolution' })
    expect(story.trail.map((a: Json) => [a.action, a.actor])).toEqual(
      expect.arrayContaining([
        ['ticket.reply', 'paula'],
        ['ticket.note', 'paula'],
        ['escalation.created', 'paula'],
      ]),
    )
    const unsent = story.trail
      .filter((a: Json) => a.action === 'alert.not_sent')
      .map((a: Json) => a.details.reason)
    expect(unsent).toEqual(
      expect.arrayContaining([
        'push alert not sent: not configured',
        'sms alert not sent: not configured',
        'call alert not sent: not configured',
      ]),
    )
    const sentReply = story.sent.find(
      (e: Json) => e.key === `ticket:${ticket.id}:reply:form-nonce-0001`,
    )
    expect(sentReply).toMatchObject({ kind: 'whatsapp.cloud.send', status: 'done' })

    // A day later the WhatsApp window is closed: the reply is refused, and says why.
    clock.advance(25 * H)
    const late = await api(`/tickets/${ticket.id}/reply`, {
      method: 'POST',
      body: { text: '¿Sigue ahí?' },
    })
    expect(late.status).toBe(409)
    expect(late.body.error).toContain('24-hour WhatsApp window is closed')
  })
})

describe('admin API without ADMIN_TOKEN', () => {
  it('is not there at all', async () => {
    const t = testHub({})
    const { port } = await t.hub.listen()
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/tickets`, {
        headers: { authorization: `Bearer ${SECRETS.admin}` },
      })
      expect(res.status).toBe(404)
    } finally {
      await t.close()
    }
  })
})
