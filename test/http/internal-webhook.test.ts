import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { messages, triageDecisions } from '../../src/store/schema.js'
import { testHub } from '../helpers/hub.js'
import { waitFor } from '../helpers/wait.js'

// A Standard Webhooks secret: "whsec_" + base64 of the key bytes.
const KEY = Buffer.from('internal-chat-signing-key-0123456789')
const SECRET = `whsec_${KEY.toString('base64')}`
const NOW = new Date('2026-11-20T13:06:00Z')
const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dirname, '../../adapters/internal/fixtures', `${name}.json`),
    'utf8',
  )

function signed(body: string, id: string, at = NOW, key = KEY): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000))
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    // A rotated-out signature first, as senders do during key rotation.
    'webhook-signature': `v1,${Buffer.from('old-key-signature').toString('base64')} v1,${signature}`,
  }
}

/** The business's app: receives the hub's callbacks and checks their signatures itself. */
async function startApp() {
  const received: {
    headers: Record<string, string | string[] | undefined>
    body: Record<string, unknown>
    valid: boolean
  }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const id = String(req.headers['webhook-id'])
      const timestamp = String(req.headers['webhook-timestamp'])
      const expected = `v1,${createHmac('sha256', KEY).update(`${id}.${timestamp}.${raw}`).digest('base64')}`
      const valid = String(req.headers['webhook-signature']).split(' ').includes(expected)
      received.push({ headers: req.headers, body: JSON.parse(raw), valid })
      res.writeHead(valid ? 204 : 401).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/centralita/events`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe("POST /webhooks/internal (the business's own chat, Standard Webhooks)", () => {
  let app: Awaited<ReturnType<typeof startApp>>
  let t: ReturnType<typeof testHub>
  let base: string

  beforeAll(async () => {
    app = await startApp()
  })
  afterAll(async () => {
    await app.close()
  })
  beforeEach(async () => {
    app.received.length = 0
    t = testHub(
      { INTERNAL_WEBHOOK_SECRET: SECRET, INTERNAL_CALLBACK_URL: app.url },
      { clock: manualClock(NOW) },
    )
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/webhooks/internal`, { method: 'POST', headers, body })

  it('hands a registered customer to their assigned operator and acknowledges them', async () => {
    const body = fixture('cliente_soporte')
    expect((await post(body, signed(body, 'evt-1'))).status).toBe(200)
    const events = await waitFor(() => app.received.length >= 2 && app.received, {
      what: 'the callbacks',
    })
    expect(events.every((e) => e.valid)).toBe(true)
    const handoff = events.find((e) => e.body.type === 'handoff')!
    expect(handoff.body).toMatchObject({
      conversation_id: 'chat-4471',
      user_id: 'cli-501',
      operator_id: 'op-12',
      queue: 'general',
      intent: 'support',
    })
    expect(String(handoff.body.note)).toContain('Operador asignado: op-12')
    const message = events.find((e) => e.body.type === 'message')!
    expect(message.body).toMatchObject({
      user_id: 'cli-501',
      automatic: true,
      in_reply_to: 'msg-20261120-0007',
    })
    expect(String(message.body.text)).toMatch(
      /^Hola Ana, recibimos tu mensaje y abrimos el ticket TK-2026-/,
    )
    // The effect's key is the webhook-id: the app can tell a retry from a new event.
    expect(message.headers['webhook-id']).toBe('msg:1:reply')
    const decision = t.hub.db.select().from(triageDecisions).get()!
    expect(decision).toMatchObject({ intent: 'support', queue: 'general' })
  })

  it('a customer without an assigned operator goes to the admin (general queue)', async () => {
    const payload = JSON.parse(fixture('cliente_soporte'))
    delete payload.assigned_operator_id
    const body = JSON.stringify(payload)
    expect((await post(body, signed(body, 'evt-2'))).status).toBe(200)
    const handoff = await waitFor(() => app.received.find((e) => e.body.type === 'handoff'), {
      what: 'the handoff',
    })
    expect(handoff.body).toMatchObject({ operator_id: null, queue: 'general' })
  })

  it("sends an operator's till or payment problem to finance", async () => {
    const body = fixture('operador_caja')
    expect((await post(body, signed(body, 'evt-3'))).status).toBe(200)
    const handoff = await waitFor(() => app.received.find((e) => e.body.type === 'handoff'), {
      what: 'the handoff',
    })
    expect(handoff.body).toMatchObject({ queue: 'finanzas', intent: 'payment', priority: 'alta' })
    expect(t.hub.db.select().from(messages).get()).toMatchObject({ authorRole: 'operator' })
    // Payment problems are never answered automatically.
    expect(app.received.filter((e) => e.body.type === 'message')).toHaveLength(0)
  })

  it('dedupes on webhook-id and refuses bad, missing or stale signatures', async () => {
    const body = fixture('cliente_soporte')
    expect((await post(body, signed(body, 'evt-dup'))).status).toBe(200)
    expect(await (await post(body, signed(body, 'evt-dup'))).json()).toMatchObject({
      outcome: 'duplicate',
    })
    expect((await post(body, signed(body, 'evt-4', NOW, Buffer.from('wrong-key')))).status).toBe(
      401,
    )
    expect(
      (await post(body, signed(body, 'evt-5', new Date(NOW.getTime() - 6 * 60_000)))).status,
    ).toBe(401)
    const { 'webhook-signature': _omit, ...unsigned } = signed(body, 'evt-6')
    expect((await post(body, unsigned)).status).toBe(401)
    const invalid = JSON.stringify({ user: { id: 'x', role: 'admin' }, text: 'hola' })
    const res = await post(invalid, signed(invalid, 'evt-7'))
    expect(res.status).toBe(400)
    expect(((await res.json()) as { reason: string }).reason).toMatch(/^user\.role/)
    expect(t.hub.db.select().from(messages).all()).toHaveLength(1)
  })
})
