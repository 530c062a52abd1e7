import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { messages, outbox, triageDecisions } from '../../src/store/schema.js'
import { type FakeGraph, startFakeGraph } from '../fakes/graph-server.js'
import { testHub } from '../helpers/hub.js'
import { waitFor } from '../helpers/wait.js'

const APP_SECRET = 'meta-app-secret-123'
const VERIFY = 'verify-token-123'
const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dirname, '../../adapters/whatsapp/fixtures', `${name}.json`),
    'utf8',
  )
// text_horario_es.json was sent at 1763650900 (a Thursday, 12:01 in Santiago).
const SENT_AT = 1763650900 * 1000

function status(id: string, state: string, callbackKey?: string) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1029384756102938',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '56229876543', phone_number_id: '110022003300440' },
              statuses: [
                {
                  id,
                  status: state,
                  timestamp: String(Math.floor(SENT_AT / 1000) + 5),
                  recipient_id: '56911112222',
                  ...(callbackKey ? { biz_opaque_callback_data: callbackKey } : {}),
                },
              ],
            },
          },
        ],
      },
    ],
  })
}

describe('WhatsApp Cloud API end to end', () => {
  let graph: FakeGraph
  let t: ReturnType<typeof testHub>
  let base: string
  const clock = manualClock(new Date(SENT_AT + 60_000))

  beforeAll(async () => {
    graph = await startFakeGraph()
  })
  afterAll(async () => {
    await graph.close()
  })
  beforeEach(async () => {
    clock.set(new Date(SENT_AT + 60_000))
    graph.sent.length = 0
    graph.requests.length = 0
    t = testHub(
      {
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: VERIFY,
        WHATSAPP_ACCESS_TOKEN: graph.token,
        WHATSAPP_PHONE_NUMBER_ID: '110022003300440',
        WHATSAPP_GRAPH_URL: graph.url,
      },
      { clock },
    )
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (body: string, signature?: string) =>
    fetch(`${base}/webhooks/whatsapp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256':
          signature ?? `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`,
      },
      body,
    })
  const rows = <T extends typeof messages | typeof triageDecisions | typeof outbox>(table: T) =>
    t.hub.db.select().from(table).all()

  it('answers the subscription handshake', async () => {
    const ok = await fetch(
      `${base}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=987654321`,
    )
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('987654321')
    const wrong = await fetch(
      `${base}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope-nope&hub.challenge=1`,
    )
    expect(wrong.status).toBe(403)
  })

  it('answers an FAQ through the Graph API, quoting it; receipts update the sent message', async () => {
    expect((await post(fixture('text_horario_es'))).status).toBe(200)
    const [sent] = await waitFor(() => graph.sent.length > 0 && graph.sent, {
      what: 'the reply at the Graph API',
    })
    expect(sent).toMatchObject({
      to: '56911112222',
      replyTo: 'wamid.HBgLNTY5MTExMTIyMjIVAgASGBQzQUMyRDk4RTI3QjQ1NzFBQkM0NwA=',
      callbackKey: 'msg:1:reply',
    })
    expect(sent!.text).toMatch(/sábados de 9:00 a 18:00/)
    expect(graph.violations()).toEqual([])
    const outbound = await waitFor(() => rows(messages).find((m) => m.externalId === sent!.id), {
      what: 'the reply recorded',
    })
    expect(outbound).toMatchObject({
      direction: 'outbound',
      authorRole: 'bot',
      deliveryState: 'sent',
    })

    // Receipts are events, never messages to triage.
    expect((await post(status(sent!.id, 'delivered'))).status).toBe(200)
    expect((await post(status(sent!.id, 'read'))).status).toBe(200)
    const after = t.hub.db.select().from(messages).where(eq(messages.externalId, sent!.id)).get()!
    expect(after.deliveryState).toBe('read')
    expect(rows(triageDecisions)).toHaveLength(1)
  })

  it("does nothing for Meta's repeated delivery of the same messages", async () => {
    const body = fixture('text_horario_es')
    expect((await post(body)).status).toBe(200)
    const again = await post(body)
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ outcome: 'duplicate' })
    // The same wamid inside another delivery is not a new message either.
    const repacked = JSON.parse(body)
    repacked.entry[0].id = 'another-delivery'
    expect(await (await post(JSON.stringify(repacked))).json()).toMatchObject({
      outcome: 'duplicate',
    })
    await waitFor(() => graph.sent.length === 1, { what: 'one reply' })
    await new Promise((r) => setTimeout(r, 150))
    expect(graph.sent).toHaveLength(1)
    expect(rows(triageDecisions)).toHaveLength(1)
  })

  it('refuses bad signatures and malformed bodies', async () => {
    const body = fixture('text_horario_es')
    expect((await post(body, 'sha256=00')).status).toBe(401)
    expect(
      (await post(body, `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}`))
        .status,
    ).toBe(401)
    const bad = '{"object":"whatsapp_business_account","entry":'
    const res = await post(bad)
    expect(res.status).toBe(400)
    expect(rows(messages)).toHaveLength(0)
  })

  it('sends nothing free-form outside the 24-hour window and hands the customer to a person', async () => {
    clock.set(new Date(SENT_AT + 25 * 3_600_000))
    expect((await post(fixture('text_horario_es'))).status).toBe(200)
    const decision = await waitFor(() => rows(triageDecisions)[0], { what: 'the decision' })
    expect(decision).toMatchObject({ intent: 'faq', needsHuman: true, queue: 'general' })
    expect(JSON.parse(decision.explanation).reasons.join('\n')).toMatch(
      /24-hour WhatsApp window is closed/,
    )
    await new Promise((r) => setTimeout(r, 150))
    expect(graph.requests).toHaveLength(0)
  })

  it('never sends twice when Meta kept a message whose answer was lost', async () => {
    graph.fail({ status: 200, times: 1, afterAccept: true })
    expect((await post(fixture('text_horario_es'))).status).toBe(200)
    await waitFor(() => rows(outbox).find((e) => e.lastError !== null), { what: 'the lost answer' })
    expect(graph.sent).toHaveLength(1)
    // Meta's status callback carries the key the hub sent with the message…
    expect((await post(status(graph.sent[0]!.id, 'sent', 'msg:1:reply'))).status).toBe(200)
    // …so the retry recognises it instead of sending it again.
    clock.advance(10 * 60_000)
    t.hub.dispatcher.wake()
    const effect = await waitFor(() => rows(outbox).find((e) => e.status === 'done'), {
      what: 'the retry',
    })
    expect(JSON.parse(effect.result!)).toMatchObject({ messageId: graph.sent[0]!.id, found: true })
    expect(graph.sent).toHaveLength(1)
    expect(rows(messages).filter((m) => m.direction === 'outbound')).toHaveLength(1)
  })
})
