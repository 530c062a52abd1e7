import { createServer, type RequestListener } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/http/app.js'
import type { IngestDeps } from '../../src/ingest/ingest.js'
import { systemClock } from '../../src/kit/clock.js'
import { createLogger, silentLogger } from '../../src/kit/logger.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { listeningHubs } from '../helpers/hub.js'
import { freePort } from '../helpers/process.js'
import { chatwootHeaders, tawkHeaders } from '../helpers/sign.js'

// Webhooks are served by plain node:http in front of express (src/http/webhook-route.ts):
// these pin the express behaviour the route keeps, and what it adds.

const hubs = listeningHubs({
  CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
  TAWK_WEBHOOK_SECRET: SECRETS.tawk,
})
const hubWith = async (env: Record<string, string>) => (await hubs.start(env)).base

let sequence = 0
function signed(extra: Record<string, string> = {}) {
  const i = ++sequence
  const body = JSON.stringify(payloads.chatwoot(i, 800 + i, 'hola', { id: 60 + i, name: 'Ana' }))
  return {
    body,
    headers: { ...chatwootHeaders(body, SECRETS.chatwoot, { delivery: `wr-${i}` }), ...extra },
  }
}

/** A channel stand-in whose requests pass every check made before the body. */
const OPEN_CHANNEL = {
  adapter: { checkHead: () => ({ ok: true }) },
  settings: { inbound: { enabled: true } },
}

/** Serves `listener` on a loopback port until the test ends: the webhook URL. */
async function listening(listener: RequestListener): Promise<string> {
  const server = createServer(listener)
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  hubs.track({ close: () => new Promise((resolve) => server.close(() => resolve())) })
  return `http://127.0.0.1:${port}/webhooks/chatwoot`
}

describe('webhook route', () => {
  it('matches the path as express did: any case, an optional trailing slash, and a query', async () => {
    const base = await hubWith({})
    for (const path of ['/webhooks/chatwoot', '/webhooks/chatwoot/', '/WEBHOOKS/chatwoot?x=1']) {
      const res = await fetch(`${base}${path}`, { method: 'POST', ...signed() })
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(await res.json()).toEqual({ ok: true, outcome: 'accepted', messages: 1 })
    }
    const unknown = await fetch(`${base}/webhooks/myspace`, { method: 'POST', body: '{}' })
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'unknown_channel' }])
    // Deeper paths are not webhooks: express answers them.
    const deeper = await fetch(`${base}/webhooks/chatwoot/extra`, { method: 'POST', body: '{}' })
    expect([deeper.status, await deeper.json()]).toEqual([404, { error: 'not_found' }])
    const put = await fetch(`${base}/webhooks/chatwoot`, { method: 'PUT', body: '{}' })
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toBe('GET, POST')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })

  it('rate-limits by the X-Forwarded-For entry the trusted proxies added', async () => {
    // WEBHOOK_RATE_LIMIT 1: a burst of two per source, then 429 (to Tawk.to, which retries).
    const statuses = async (base: string, headersOf: (i: number) => string) => {
      const out: number[] = []
      for (let i = 0; i < 4; i++) {
        const id = `wr-tawk-${++sequence}`
        const body = JSON.stringify(payloads.tawkChat(id, 'hola'))
        const headers = { ...tawkHeaders(body, SECRETS.tawk, id), 'x-forwarded-for': headersOf(i) }
        out.push((await fetch(`${base}/webhooks/tawkto`, { method: 'POST', body, headers })).status)
      }
      return out
    }
    // The client writes what it likes on the left (a new address each time, to dodge the
    // limit); the one proxy appends the address it really got the request from.
    const real = ['203.0.113.7', '203.0.113.7', '203.0.113.7', '203.0.113.8']
    const oneHop = (i: number) => `198.51.100.${i}, ${real[i]}`
    const proxied = await hubWith({ WEBHOOK_RATE_LIMIT: '1', TRUST_PROXY: 'true' })
    expect(await statuses(proxied, oneHop)).toEqual([200, 200, 429, 200])
    // Two proxies: the outer one's entry is second from the right.
    const twoHops = (i: number) => `198.51.100.${i}, ${real[i]}, 10.0.0.1`
    const chained = await hubWith({ WEBHOOK_RATE_LIMIT: '1', TRUST_PROXY: '2' })
    expect(await statuses(chained, twoHops)).toEqual([200, 200, 429, 200])
    // Without TRUST_PROXY the header is the sender's word, and it cannot dodge the limit.
    const direct = await hubWith({ WEBHOOK_RATE_LIMIT: '1' })
    expect(await statuses(direct, oneHop)).toEqual([200, 200, 429, 429])
  })

  it('logs one line per answered webhook with its request id and channel', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    )
    const url = await listening(
      createApp({
        ingest: {
          channels: new Map([['chatwoot', OPEN_CHANNEL]]),
          clock: systemClock,
        } as unknown as IngestDeps,
        logger,
        bodyLimit: () => 1024,
        readiness: async () => ({ ready: true, checks: {} }),
        admit: () => ({ outcome: 'rate_limited', retryAfter: 3 }),
      }),
    )
    await fetch(url, { method: 'POST', body: '{}', headers: { 'x-request-id': 'req-42' } })
    await fetch(url, { method: 'POST', body: '{}' })
    expect(
      lines.map(({ reqId, channel, outcome, msg }) => ({ reqId, channel, outcome, msg })),
    ).toEqual([
      { reqId: 'req-42', channel: 'chatwoot', outcome: 'rate_limited', msg: 'webhook answered' },
      {
        reqId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        channel: 'chatwoot',
        outcome: 'rate_limited',
        msg: 'webhook answered',
      },
    ])
    // Above its level, nothing is built or written.
    logger.level = 'warn'
    await fetch(url, { method: 'POST', body: '{}' })
    expect(lines).toHaveLength(2)
  })

  it('answers 500 to a request that fails inside the hub, and keeps serving', async () => {
    let fail = true
    const listener = createApp({
      ingest: {
        channels: new Map([['chatwoot', OPEN_CHANNEL]]),
        clock: systemClock,
      } as unknown as IngestDeps,
      logger: silentLogger,
      bodyLimit: () => 1024,
      readiness: async () => ({ ready: true, checks: {} }),
      admit: () => {
        if (fail) throw new Error('admission broke')
        return { outcome: 'rate_limited', retryAfter: 3 }
      },
    })
    const url = await listening(listener)
    const broken = await fetch(url, { method: 'POST', body: '{}' })
    expect([broken.status, await broken.json()]).toEqual([500, { error: 'internal_error' }])
    fail = false
    const next = await fetch(url, { method: 'POST', body: '{}' })
    expect(next.status).toBe(429)
    expect(next.headers.get('retry-after')).toBe('3')
  })
})
