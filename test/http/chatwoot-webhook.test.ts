import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { count } from 'drizzle-orm'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { messages, triageDecisions, webhookDeliveries } from '../../src/store/schema.js'
import { triageBacklog } from '../../src/store/triage-queue.js'
import { testHub } from '../helpers/hub.js'
import { chatwootHeaders } from '../helpers/sign.js'

const SECRET = 'chatwoot-webhook-secret'
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../adapters/chatwoot/fixtures', name), 'utf8')
const NOW = new Date('2026-11-20T10:00:00Z')
const TS = Math.floor(NOW.getTime() / 1000)

describe('POST /webhooks/chatwoot', () => {
  let t: ReturnType<typeof testHub>
  const clock = manualClock(NOW)
  const rows = (table: typeof messages | typeof triageDecisions | typeof webhookDeliveries) =>
    t.hub.db.select({ n: count() }).from(table).get()!.n
  /** Messages queued for triage: still waiting, or triaged already by the running worker. */
  const forTriage = async () => (await triageBacklog(t.hub.sql)) + rows(triageDecisions)

  beforeEach(() => {
    clock.set(NOW)
    t = testHub({ CHATWOOT_WEBHOOK_SECRET: SECRET }, { clock })
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (body: string, headers: Record<string, string>, query = '') =>
    request(t.hub.app).post(`/webhooks/chatwoot${query}`).set(headers).send(body)

  it('accepts a signed delivery, stores the message and queues its triage', async () => {
    const body = fixture('message_created_incoming.json')
    const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS, delivery: 'd-1' }))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true, outcome: 'accepted', messages: 1 })
    const stored = t.hub.db.select().from(messages).all()
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({
      channel: 'chatwoot',
      externalId: '1:9876',
      direction: 'inbound',
      authorRole: 'customer',
      text: 'Hola, ¿a qué hora abren el sábado?',
      triage: true,
    })
    expect(stored[0]!.rawHash).toMatch(/^[0-9a-f]{64}$/)
    expect(rows(webhookDeliveries)).toBe(1)
    expect(await forTriage()).toBe(1)
  })

  it('answers a repeated delivery 200 and stores nothing new', async () => {
    const body = fixture('message_created_incoming.json')
    const headers = chatwootHeaders(body, SECRET, { timestamp: TS, delivery: 'd-1' })
    await post(body, headers).expect(200)
    const again = await post(body, headers)
    expect(again.status).toBe(200)
    expect(again.body.outcome).toBe('duplicate')
    expect(rows(messages)).toBe(1)
    expect(await forTriage()).toBe(1)
    expect(rows(webhookDeliveries)).toBe(1)
  })

  it('stores one copy when conversation_created and message_created carry the same message', async () => {
    const created = fixture('conversation_created.json')
    const message = fixture('message_created_incoming.json')
    await post(
      created,
      chatwootHeaders(created, SECRET, { timestamp: TS, delivery: 'd-a' }),
    ).expect(200)
    const res = await post(
      message,
      chatwootHeaders(message, SECRET, { timestamp: TS, delivery: 'd-b' }),
    )
    expect(res.body.outcome).toBe('duplicate')
    expect(rows(messages)).toBe(1)
    expect(await forTriage()).toBe(1)
  })

  it.each([
    [
      'a tampered body',
      (body: string) => ({
        body: body.replace('sábado', 'domingo'),
        headers: chatwootHeaders(body, SECRET, { timestamp: TS }),
      }),
    ],
    [
      'the wrong secret',
      (body: string) => ({
        body,
        headers: chatwootHeaders(body, 'another-secret', { timestamp: TS }),
      }),
    ],
    [
      'no signature header',
      (body: string) => ({ body, headers: { 'content-type': 'application/json' } }),
    ],
    [
      'a stale timestamp',
      (body: string) => ({ body, headers: chatwootHeaders(body, SECRET, { timestamp: TS - 301 }) }),
    ],
    [
      'a timestamp from the future',
      (body: string) => ({ body, headers: chatwootHeaders(body, SECRET, { timestamp: TS + 400 }) }),
    ],
  ])('refuses %s with 401 and stores nothing', async (_case, make) => {
    const { body, headers } = make(fixture('message_created_incoming.json'))
    const res = await post(body, headers)
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'unauthorized' })
    expect(rows(messages)).toBe(0)
    expect(rows(webhookDeliveries)).toBe(0)
  })

  it('answers malformed JSON with 400 and a short reason', async () => {
    const body = '{"event": "message_created", '
    const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS }))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'invalid_payload', reason: 'malformed JSON' })
  })

  it('answers a schema violation with 400 naming the field', async () => {
    const payload = JSON.parse(fixture('message_created_incoming.json'))
    delete payload.conversation
    const body = JSON.stringify(payload)
    const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS }))
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_payload')
    expect(res.body.reason).toMatch(/^conversation: /)
    expect(rows(messages)).toBe(0)
  })

  it('answers an oversized body with 413', async () => {
    const body = JSON.stringify({ event: 'message_created', padding: 'x'.repeat(1024 * 1024) })
    const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS }))
    expect(res.status).toBe(413)
    expect(res.body.error).toBe('payload_too_large')
  })

  it('answers an unknown channel with 404', async () => {
    const res = await request(t.hub.app).post('/webhooks/myspace').send('{}')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: 'unknown_channel' })
  })

  it('ignores private notes and the hub’s own echoed messages', async () => {
    for (const name of ['message_created_private_note.json', 'message_created_hub_echo.json']) {
      const body = fixture(name)
      const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS }))
      expect(res.status).toBe(200)
      expect(res.body.outcome).toBe('ignored')
    }
    expect(rows(messages)).toBe(0)
    expect(await forTriage()).toBe(0)
  })

  it('stores an agent’s reply without triaging it and records when the agent answered', async () => {
    const body = fixture('message_created_outgoing_agent.json')
    const res = await post(
      body,
      chatwootHeaders(body, SECRET, { timestamp: TS, delivery: 'd-agent' }),
    )
    expect(res.body.outcome).toBe('accepted')
    const [stored] = t.hub.db.select().from(messages).all()
    expect(stored).toMatchObject({ direction: 'outbound', authorRole: 'agent', triage: false })
    expect(await forTriage()).toBe(0)
    const row = t.hub.db.$client
      .prepare('select last_agent_reply_at as at from conversations')
      .get() as { at: number }
    expect(row.at).toBe(Date.parse('2026-11-20T10:00:00.000Z'))
  })

  it('applies conversation_status_changed to the stored conversation', async () => {
    const first = fixture('message_created_incoming.json')
    await post(first, chatwootHeaders(first, SECRET, { timestamp: TS, delivery: 'd-1' })).expect(
      200,
    )
    const body = fixture('conversation_status_changed.json')
    const res = await post(body, chatwootHeaders(body, SECRET, { timestamp: TS, delivery: 'd-2' }))
    expect(res.body.outcome).toBe('accepted')
    const row = t.hub.db.$client.prepare('select status from conversations').get() as {
      status: string
    }
    expect(row.status).toBe('resolved')
  })
})

describe('Chatwoot channel settings', () => {
  it('is disabled without a secret and refuses every delivery with 401', async () => {
    const t = testHub({})
    try {
      const body = fixture('message_created_incoming.json')
      const res = await request(t.hub.app)
        .post('/webhooks/chatwoot')
        .set('content-type', 'application/json')
        .send(body)
      expect(res.status).toBe(401)
      expect(t.hub.channels.get('chatwoot')?.settings.inbound).toEqual({
        enabled: false,
        reason: 'set CHATWOOT_WEBHOOK_SECRET (or CHATWOOT_WEBHOOK_TOKEN for unsigned servers)',
      })
    } finally {
      await t.close()
    }
  })

  it('accepts unsigned deliveries from old servers only with the URL token', async () => {
    const token = 'url-token-for-old-chatwoot'
    const t = testHub({ CHATWOOT_WEBHOOK_TOKEN: token })
    try {
      const body = fixture('message_created_incoming.json')
      const post = (query: string) =>
        request(t.hub.app)
          .post(`/webhooks/chatwoot${query}`)
          .set('content-type', 'application/json')
          .send(body)
      expect((await post('')).status).toBe(401)
      expect((await post('?token=wrong-token-for-old-chatwoot')).status).toBe(401)
      const ok = await post(`?token=${token}`)
      expect(ok.status).toBe(200)
      expect(ok.body.outcome).toBe('accepted')
    } finally {
      await t.close()
    }
  })
})
