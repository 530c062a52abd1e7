import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { auditLog, messages, outbox, triageDecisions } from '../../src/store/schema.js'
import { type FakeChatwoot, startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { type SmtpSink, startSmtpSink } from '../fakes/smtp-sink.js'
import { settled, testHub } from '../helpers/hub.js'
import { QUALITY_MAILBOX, rulesWithQualityMailbox } from '../helpers/rules.js'
import { chatwootHeaders, tawkHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'tawk-webhook-secret'
const CHATWOOT_SECRET = 'chatwoot-webhook-secret'
const EMAIL_TOKEN = 'email-webhook-secret-0123456789'
// A Wednesday, 12:00 in Santiago: the website chat is open.
const IN_HOURS = '2026-11-18T15:00:00Z'
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../adapters/tawkto/fixtures', name), 'utf8')

describe('POST /webhooks/tawkto', () => {
  let sink: SmtpSink
  let chatwoot: FakeChatwoot
  let t: ReturnType<typeof testHub>
  let base: string
  const clock = manualClock(IN_HOURS)

  const rules = rulesWithQualityMailbox()

  beforeAll(async () => {
    sink = await startSmtpSink()
    chatwoot = await startFakeChatwoot()
  })
  afterAll(async () => {
    await sink.close()
    await chatwoot.close()
    rules.cleanup()
  })
  beforeEach(async () => {
    clock.set(IN_HOURS)
    sink.received.length = 0
    t = testHub(
      {
        TAWK_WEBHOOK_SECRET: SECRET,
        CHATWOOT_WEBHOOK_SECRET: CHATWOOT_SECRET,
        SMTP_URL: sink.url,
        EMAIL_FROM: 'Soporte Tienda <soporte@tienda.example>',
        CHATWOOT_BASE_URL: chatwoot.url,
        CHATWOOT_API_TOKEN: chatwoot.token,
        CHATWOOT_ACCOUNT_ID: '1',
        CHATWOOT_MIRROR_INBOX_ID: '9',
        EMAIL_WEBHOOK_SECRET: EMAIL_TOKEN,
        RULES_DIR: rules.dir,
      },
      { clock },
    )
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (body: string, eventId: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/webhooks/tawkto`, {
      method: 'POST',
      headers: { ...tawkHeaders(body, SECRET, eventId), ...headers },
      body,
    })
  const count = (table: typeof messages | typeof triageDecisions | typeof outbox) =>
    t.hub.db.select().from(table).all().length
  /** The outcome of each of `n` Chatwoot mirror effects, once none is still to run. */
  const mirrorsFinished = (n: number) =>
    waitFor(
      () => {
        const mirrors = t.hub.db
          .select()
          .from(outbox)
          .where(eq(outbox.kind, 'chatwoot.mirror'))
          .all()
        const finished = mirrors.filter((e) => e.status === 'done' || e.status === 'dead')
        return finished.length === n && finished.map((e) => e.status)
      },
      { what: `${n} mirror effects finished` },
    )
  const everyEffectDone = () =>
    waitFor(
      () =>
        t.hub.db
          .select()
          .from(outbox)
          .all()
          .every((e) => e.status === 'done'),
      { what: 'every effect done' },
    )

  it('answers an offline ticket about a price with the FAQ answer, by email', async () => {
    const res = await post(fixture('ticket_create_precio.json'), 'evt-ticket-1')
    expect(res.status).toBe(200)
    const [mail] = await waitFor(
      () => sink.to('camila.rojas@example.cl').length > 0 && sink.received,
      {
        what: 'the FAQ answer in the SMTP sink',
      },
    )
    expect(mail!.parsed.subject).toBe('Re: Consulta')
    expect(mail!.parsed.from?.address).toBe('soporte@tienda.example')
    expect(mail!.header('auto-submitted')).toBe('auto-replied')
    expect(mail!.parsed.text).toContain('Camila')
    expect(mail!.parsed.text).toMatch(/env[ií]o/i)
    const decision = t.hub.db.select().from(triageDecisions).get()!
    expect(decision.intent).toBe('faq')
    expect(JSON.parse(decision.actions).reply).toMatchObject({ kind: 'faq', faqId: 'envios' })
  })

  it('does nothing for a repeated X-Hook-Event-Id', async () => {
    const body = fixture('ticket_create_precio.json')
    expect((await post(body, 'evt-dup')).status).toBe(200)
    await waitFor(() => sink.received.length === 1, { what: 'the first answer' })
    await settled(t.hub)
    const before = {
      messages: count(messages),
      decisions: count(triageDecisions),
      outbox: count(outbox),
    }

    const again = await post(body, 'evt-dup')
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ outcome: 'duplicate' })
    await new Promise((r) => setTimeout(r, 200))
    expect({
      messages: count(messages),
      decisions: count(triageDecisions),
      outbox: count(outbox),
    }).toEqual(before)
    expect(sink.received).toHaveLength(1)
  })

  it('rejects a bad or missing signature with 401 and stores nothing', async () => {
    const body = fixture('chat_start.json')
    const forged = await post(body, 'evt-forged', { 'x-tawk-signature': '0'.repeat(40) })
    expect(forged.status).toBe(401)
    const missing = await fetch(`${base}/webhooks/tawkto`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hook-event-id': 'evt-unsigned' },
      body,
    })
    expect(missing.status).toBe(401)
    // Signed over different bytes (re-serialized JSON) does not verify either.
    const reformatted = JSON.stringify(JSON.parse(body), null, 1)
    const mismatched = await fetch(`${base}/webhooks/tawkto`, {
      method: 'POST',
      headers: tawkHeaders(body, SECRET, 'evt-mismatch'),
      body: reformatted,
    })
    expect(mismatched.status).toBe(401)
    expect(count(messages)).toBe(0)
  })

  it('answers malformed payloads with 400 and a reason, and ignores chat:end', async () => {
    const broken = await post('{"event":"chat:start",', 'evt-broken')
    expect(broken.status).toBe(400)
    const noChat = await post(JSON.stringify({ event: 'chat:start', time: IN_HOURS }), 'evt-nochat')
    expect(noChat.status).toBe(400)
    expect(((await noChat.json()) as { reason: string }).reason).toMatch(/chatId|message/)
    const end = await post(fixture('chat_end.json'), 'evt-end')
    expect(end.status).toBe(200)
    expect(await end.json()).toMatchObject({ outcome: 'ignored' })
  })

  it('stores a transcript once: the chat:start line is not repeated, agent lines are not triaged', async () => {
    const start = JSON.parse(fixture('chat_transcript_reclamo.json'))
    const first = start.chat.messages[0]
    const chatStart = JSON.stringify({
      event: 'chat:start',
      chatId: start.chat.id,
      time: first.time,
      message: { text: first.msg, type: 'msg', sender: { type: 'visitor' } },
      visitor: start.chat.visitor,
      property: start.property,
    })
    expect((await post(chatStart, 'evt-start')).status).toBe(200)
    expect((await post(fixture('chat_transcript_reclamo.json'), 'evt-transcript')).status).toBe(200)
    await waitFor(() => count(triageDecisions) === 2, { what: 'both visitor lines triaged' })
    const rows = t.hub.db.select().from(messages).all()
    expect(rows.map((m) => [m.authorRole, m.triage])).toEqual([
      ['visitor', true],
      ['agent', false],
      ['visitor', true],
      ['system', false],
    ])
    expect(new Set(rows.map((m) => m.conversationId)).size).toBe(1)
    const first_ = t.hub.db
      .select()
      .from(triageDecisions)
      .where(eq(triageDecisions.messageId, rows[0]!.id))
      .get()!
    expect(first_).toMatchObject({ intent: 'complaint', level: 'L3' })
    expect(JSON.parse(first_.signals)).toContain('property_damage')
  })

  it('mirrors a visitor without email into the Chatwoot API inbox and says why it sent no answer', async () => {
    const known = chatwoot.conversations.size
    const res = await post(fixture('chat_start_precio.json'), 'evt-mirror')
    expect(res.status).toBe(200)
    const conversation = await waitFor(() => [...chatwoot.conversations.values()][known], {
      what: 'a mirrored conversation',
    })
    const internalId = t.hub.db.select().from(messages).get()!.conversationId
    expect(conversation).toMatchObject({
      inbox_id: 9,
      custom_attributes: { centralita_conversation: internalId },
    })
    const key = `1:${conversation.id}`
    await waitFor(
      () =>
        (chatwoot.messages.get(key)?.length ?? 0) >= 2 &&
        chatwoot.priorities.get(key) &&
        chatwoot.labels.get(key),
      {
        what: 'the customer message, the note, labels and priority in the mirror',
      },
    )
    const [incoming, note] = chatwoot.messages.get(key)!
    expect(incoming).toMatchObject({ message_type: 'incoming', private: false })
    expect(incoming!.content).toContain('cuanto cuesta el envio')
    expect(note).toMatchObject({ private: true })
    expect(note!.content).toMatch(/left no email/)
    expect(chatwoot.labels.get(key)).toEqual(expect.arrayContaining(['faq', 'baja']))
    expect(chatwoot.violations()).toEqual([])
    const decision = t.hub.db.select().from(triageDecisions).get()!
    expect(JSON.parse(decision.explanation).reasons.join('\n')).toMatch(/left no email/)
    expect(JSON.parse(decision.actions).reply).toBeNull()
    // The FAQ answer could not go out, so a person takes it: a ticket and the general team.
    expect(decision).toMatchObject({ needsHuman: true, queue: 'general' })
    expect(JSON.parse(decision.actions).ticket).toBe('consulta')
    await waitFor(() => chatwoot.assignments.get(key), { what: 'the team assignment' })
    expect(chatwoot.assignments.get(key)).toEqual({ team_id: 1 })
  })

  it('mirrors two chats a visitor opens at once under one Chatwoot contact', async () => {
    const chat = (chatId: string, text: string) =>
      fixture('chat_start.json')
        .replace('70fe3290-99ad-11e9-a30a-51567162179f', chatId)
        .replace('hello@test.com', 'dos.chats@cliente.example')
        .replace('Sample message', text)
    const known = chatwoot.conversations.size
    const answers = await Promise.all([
      post(chat('chat-a', 'mi pedido no ha llegado, me pueden ayudar'), 'evt-two-a'),
      post(chat('chat-b', 'no puedo pagar con tarjeta, me da error'), 'evt-two-b'),
    ])
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    expect(await mirrorsFinished(2)).toEqual(['done', 'done'])
    await everyEffectDone()
    const mirrored = [...chatwoot.conversations.values()].slice(known)
    expect(mirrored).toHaveLength(2)
    const contacts = chatwoot.contacts.filter((c) => c.email === 'dos.chats@cliente.example')
    expect(contacts).toHaveLength(1)
    expect(mirrored.map((c) => c.contact_id)).toEqual([contacts[0]!.id, contacts[0]!.id])
    expect(chatwoot.violations()).toEqual([])
  })

  it('takes over a Chatwoot contact made elsewhere between its search and its create', async () => {
    // Another hub process (or an agent) created the contact after this hub searched for it:
    // Chatwoot refuses the create with 422, and the hub uses the contact that now exists.
    const email = 'carrera@cliente.example'
    chatwoot.afterAnswering({
      times: 1,
      match: /\/contacts\/search$/,
      run: () => {
        chatwoot.contacts.push({
          id: 90_001,
          name: 'Creado por otro',
          email,
          phone_number: null,
          identifier: null,
          additional_attributes: {},
          contact_inboxes: [],
        })
      },
    })
    const body = fixture('chat_start.json')
      .replace('hello@test.com', email)
      .replace('Sample message', 'mi pedido no ha llegado, me pueden ayudar')
    const known = chatwoot.conversations.size
    expect((await post(body, 'evt-race')).status).toBe(200)
    expect(await mirrorsFinished(1)).toEqual(['done'])
    const conversation = [...chatwoot.conversations.values()][known]!
    expect(conversation.contact_id).toBe(90_001)
    expect(chatwoot.contacts.filter((c) => c.email === email)).toHaveLength(1)
    await everyEffectDone()
    expect(chatwoot.violations()).toEqual([])
  })

  it('relays an agent reply in the mirrored conversation to the visitor by email', async () => {
    const body = fixture('chat_start.json').replace(
      'Sample message',
      'mi pedido no ha llegado, me pueden ayudar',
    )
    const known = chatwoot.conversations.size
    expect((await post(body, 'evt-relay')).status).toBe(200)
    const conversation = await waitFor(() => [...chatwoot.conversations.values()][known], {
      what: 'a mirrored conversation',
    })
    await everyEffectDone()
    // Chatwoot sends the agent's answer in the API inbox to the hub's Chatwoot webhook.
    const reply = JSON.parse(
      readFileSync(
        join(
          import.meta.dirname,
          '../../adapters/chatwoot/fixtures/message_created_outgoing_agent.json',
        ),
        'utf8',
      ),
    )
    reply.id = 88_001
    reply.content = 'Hola, su pedido sale hoy en el camión de las 18:00.'
    reply.conversation.id = conversation.id
    reply.conversation.custom_attributes = conversation.custom_attributes
    const payload = JSON.stringify(reply)
    const res = await fetch(`${base}/webhooks/chatwoot`, {
      method: 'POST',
      headers: chatwootHeaders(payload, CHATWOOT_SECRET, {
        delivery: 'cw-agent-1',
        timestamp: Math.floor(clock.now().getTime() / 1000),
      }),
      body: payload,
    })
    expect(res.status).toBe(200)
    const mails = await waitFor(
      () => sink.to('hello@test.com').length > 0 && sink.to('hello@test.com'),
      {
        what: 'the relayed answer',
      },
    )
    expect(mails[0]!.parsed.text).toContain('camión de las 18:00')
    expect(mails[0]!.header('auto-submitted')).toBeUndefined()
    const audit = t.hub.db.select().from(auditLog).all()
    expect(audit.map((a) => a.action)).toContain('relay.relayed')
  })

  it('tells the admin when an emailed answer cannot reach a visitor who left no email', async () => {
    const complaint = JSON.parse(fixture('chat_start_precio.json'))
    complaint.chatId = 'c0ffee00-1111-4222-8333-444455556666'
    complaint.message.text = 'el pedido llegó roto y nadie me responde, pésima atención'
    expect((await post(JSON.stringify(complaint), 'evt-no-email')).status).toBe(200)
    const notice = await waitFor(
      () => sink.to(QUALITY_MAILBOX).find((m) => m.parsed.text?.includes('llegó roto')),
      { what: 'the queue notification' },
    )
    const noticeId = notice.parsed.messageId!
    const answer = [
      'From: Paula <paula@tienda.example>',
      'To: soporte@tienda.example',
      `Subject: Re: ${notice.parsed.subject}`,
      'Message-ID: <paula-tawk-1@tienda.example>',
      `In-Reply-To: ${noticeId}`,
      `References: ${noticeId}`,
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Le enviamos uno nuevo mañana.',
    ].join('\r\n')
    const res = await fetch(`${base}/webhooks/email`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMAIL_TOKEN}`, 'content-type': 'message/rfc822' },
      body: answer,
    })
    expect(res.status).toBe(200)
    const [bounce] = await waitFor(
      () => sink.to('paula@tienda.example').length > 0 && sink.to('paula@tienda.example'),
      {
        what: 'the notice to the admin',
      },
    )
    expect(bounce!.parsed.text).toContain('no pudo entregar')
    expect(bounce!.parsed.text).toMatch(/left no email/)
    expect(bounce!.parsed.inReplyTo).toBe('<paula-tawk-1@tienda.example>')
    expect(bounce!.header('auto-submitted')).toBe('auto-replied')
    const audit = t.hub.db.select().from(auditLog).all()
    expect(audit.map((a) => a.action).filter((a) => a.startsWith('relay.'))).toEqual([
      'relay.undeliverable',
    ])
  })
})
