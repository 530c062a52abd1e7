import { request } from 'node:http'
import { count } from 'drizzle-orm'
import nodemailer from 'nodemailer'
import { describe, expect, it } from 'vitest'
import { messages } from '../../src/store/schema.js'
import { triageBacklog } from '../../src/store/triage-queue.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { listeningHubs, testHub } from '../helpers/hub.js'
import { freePort } from '../helpers/process.js'
import { tawkHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

// Overload degrades into answers a sender retries on (429, 503, SMTP 451), never into memory
// growth or lost messages. Tawk.to retries a refused webhook for 12 hours; Chatwoot never
// does, so its deliveries are always stored.

const hubs = listeningHubs({
  CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
  TAWK_WEBHOOK_SECRET: SECRETS.tawk,
})
const hubWith = hubs.start

const contact = { id: 40, name: 'Ana' }
const stored = (t: ReturnType<typeof testHub>) =>
  t.hub.db.select({ n: count() }).from(messages).get()!.n

describe('limits', () => {
  it('answers 429 with Retry-After to a source over its rate, and takes it again later', async () => {
    const { t, base } = await hubWith({ WEBHOOK_RATE_LIMIT: '5' })
    const send = deliver(base)
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 15; i++) {
      const res = await send.tawk(payloads.tawkChat(`rl-chat-${i}`, 'hola'), `rl-${i}`)
      statuses.push(res.status)
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after')
    }
    // A burst of twice the rate gets through; the rest is turned away, not stored.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0)
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    expect(stored(t)).toBe(statuses.filter((s) => s === 200).length)
    // Tokens come back at the configured rate.
    await new Promise((r) => setTimeout(r, 1100))
    const later = await send.tawk(payloads.tawkChat('rl-chat-later', 'hola'), 'rl-later')
    expect(later.status).toBe(200)
  })

  it('never turns Chatwoot away (it does not deliver again): over the rate and the backlog, it is stored', async () => {
    const { t, base } = await hubWith({ WEBHOOK_RATE_LIMIT: '2', MAX_PENDING_TRIAGE: '3' })
    await t.hub.worker.stop()
    const send = deliver(base)
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const res = await send.chatwoot(payloads.chatwoot(i + 1, 500 + i, 'hola', contact), `cw-${i}`)
      statuses.push(res.status)
      if (i === 5) await new Promise((r) => setTimeout(r, 250))
    }
    expect(statuses).toEqual(Array(12).fill(200))
    expect(stored(t)).toBe(12)
    // Over the bound, the hub says so where it is watched.
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toMatch(
      /centralita_stored_over_backlog_bound_total\{[^}]*channel="chatwoot"[^}]*\} [1-9]/,
    )
    // A sender that retries is still asked to wait.
    const tawk = await send.tawk(payloads.tawkChat('cw-tawk', 'hola'), 'cw-tawk')
    expect([429, 503]).toContain(tawk.status)
  })

  it('answers 503 while the triage backlog is over MAX_PENDING_TRIAGE, and 200 once it is worked off', async () => {
    const { t, base } = await hubWith({ MAX_PENDING_TRIAGE: '3', WEBHOOK_RATE_LIMIT: '1000' })
    await t.hub.worker.stop()
    const send = deliver(base)
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await send.tawk(payloads.tawkChat(`bl-chat-${i}`, 'hola'), `bl-${i}`)
      statuses.push(res.status)
      if (res.status === 503) expect(res.headers.get('retry-after')).toBe('5')
      // The backlog figure is cached for 200 ms.
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
    expect(statuses.slice(3)).toEqual([503, 503, 503])
    expect(stored(t)).toBe(3)
    // A hub that works its backlog off takes the sender's retry.
    await t.hub.stop()
    const again = testHub(
      { TAWK_WEBHOOK_SECRET: SECRETS.tawk, MAX_PENDING_TRIAGE: '3' },
      { dir: t.dir },
    )
    hubs.track(again)
    const port = (await again.hub.listen()).port
    await waitFor(async () => (await triageBacklog(again.hub.sql)) === 0, { what: 'drained' })
    await new Promise((r) => setTimeout(r, 250))
    const retried = await deliver(`http://127.0.0.1:${port}`).tawk(
      payloads.tawkChat('bl-chat-3', 'hola'),
      'bl-3',
    )
    expect(retried.status).toBe(200)
    expect(stored(again)).toBe(4)
  })

  it('answers 503 past WEBHOOK_MAX_INFLIGHT requests in progress', async () => {
    const { t, base, port } = await hubWith({ WEBHOOK_MAX_INFLIGHT: '1' })
    // A slow sender holds the only slot: signed headers sent, body still coming.
    const slowBody = JSON.stringify(payloads.tawkChat('if-slow', 'hola'))
    const slow = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/webhooks/tawkto',
      headers: {
        ...tawkHeaders(slowBody, SECRETS.tawk, 'if-slow'),
        'content-length': String(Buffer.byteLength(slowBody)),
      },
    })
    slow.on('error', () => {})
    slow.write('{"event":')
    await new Promise((r) => setTimeout(r, 150))
    const res = await deliver(base).tawk(payloads.tawkChat('if-1', 'hola'), 'if-1')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    // Chatwoot, which never delivers again, has twice the room.
    const once = await deliver(base).chatwoot(payloads.chatwoot(1, 800, 'hola', contact), 'if-cw')
    expect(once.status).toBe(200)
    slow.destroy()
    await new Promise((r) => setTimeout(r, 150))
    const after = await deliver(base).tawk(payloads.tawkChat('if-2', 'hola'), 'if-2')
    expect(after.status).toBe(200)
    expect(stored(t)).toBe(2)
  })

  it('answers SMTP 451 (try again later) while the backlog is over its bound', async () => {
    const smtpPort = await freePort()
    const { t } = await hubWith({
      MAX_PENDING_TRIAGE: '1',
      SMTP_LISTEN_PORT: String(smtpPort),
      SMTP_LISTEN_HOST: '127.0.0.1',
      EMAIL_FROM: 'soporte@tienda.example',
    })
    await t.hub.worker.stop()
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      ignoreTLS: true,
    })
    const mail = (n: number) => ({
      from: 'ana@cliente.example',
      to: 'soporte@tienda.example',
      subject: `Consulta ${n}`,
      text: '¿Cuál es el horario?',
      messageId: `<limits-${n}@cliente.example>`,
    })
    try {
      expect((await client.sendMail(mail(1))).response).toMatch(/^250/)
      await new Promise((r) => setTimeout(r, 250))
      const refused = await client.sendMail(mail(2)).catch((err: { responseCode?: number }) => err)
      expect(refused).toMatchObject({ responseCode: 451 })
      expect(stored(t)).toBe(1)
    } finally {
      client.close()
    }
  })
})
