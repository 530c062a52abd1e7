import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRETS } from '../helpers/deliveries.js'
import { tempDir } from '../helpers/hub.js'
import { freePort, type ServeProcess, startServe } from '../helpers/process.js'
import {
  expectEachProcessedOnce,
  hubEnv,
  mixedTraffic,
  type ReliabilityUpstreams,
  SIZES,
  sendStream,
  startReliabilityUpstreams,
  upstreamDuplicates,
} from './harness.js'

// The hub is killed with SIGKILL several times while senders deliver (and retry until they get
// their 200), and restarted on the same port each time. Nothing acknowledged may be lost, and
// the upstreams must not see an action twice.

describe('crash', () => {
  let up: ReliabilityUpstreams
  let temp: ReturnType<typeof tempDir>
  let hub: ServeProcess | null = null

  beforeAll(async () => {
    up = await startReliabilityUpstreams()
    temp = tempDir()
  })
  afterAll(async () => {
    hub?.child.kill('SIGKILL')
    await hub?.exited
    await up?.close()
    temp?.cleanup()
  })

  it('loses no acknowledged message and repeats no action across repeated SIGKILLs', async () => {
    const port = await freePort()
    const env = hubEnv(up, temp.dir)
    const start = async () => {
      hub = await startServe(env, { port, timeoutMs: 60_000 })
      return hub
    }
    await start()
    up.graph.sendStatusesTo(`http://127.0.0.1:${port}/webhooks/whatsapp`, SECRETS.whatsapp)

    const count = Math.max(300, Math.floor(SIZES.messages / 2))
    const { unique, stream } = mixedTraffic(count, 'crash')
    const sending = sendStream(`http://127.0.0.1:${port}`, stream, {
      concurrency: 16,
      untilAcknowledged: true,
      deadlineMs: 240_000,
    })
    let done = false
    void sending.finally(() => {
      done = true
    })

    // Kill at spread-out moments while deliveries (and the work they start) are under way.
    let kills = 0
    while (kills < SIZES.kills && !done) {
      await new Promise((r) => setTimeout(r, 400 + kills * 300))
      hub!.child.kill('SIGKILL')
      await hub!.exited
      kills++
      await start()
    }
    const sent = await sending
    expect(kills).toBeGreaterThanOrEqual(1)
    expect(sent.failures).toBeGreaterThan(0)
    // Every delivery ended acknowledged, some after retries while the hub was down.
    expect(sent.statuses.get(200)).toBe(stream.reduce((n, g) => n + g.length, 0))

    const db = join(temp.dir, 'centralita.db')
    await expectEachProcessedOnce(db, unique, hub!)

    const dupes = upstreamDuplicates(up)
    expect(dupes.chatwoot).toEqual([])
    expect(dupes.mirrors).toEqual([])
    expect(dupes.reassigned).toEqual([])
    expect(dupes.sent.agentAssignments).toBeGreaterThan(0)
    expect(dupes.whatsapp).toEqual([])
    expect(dupes.sent.chatwoot).toBeGreaterThan(0)
    // SMTP has no idempotency key: a mail the server accepted in the instant before a crash
    // goes out again on restart, at most one per send in flight (OUTBOX_CONCURRENCY), and
    // always as the same message (same Message-ID and text), which mail clients show once.
    expect(dupes.email.length).toBeLessThanOrEqual(kills * 16)
    for (const id of dupes.email) {
      const copies = up.sink.received.filter((m) => m.header('message-id') === id)
      expect(new Set(copies.map((m) => `${m.parsed.subject}\n${m.parsed.text}`)).size).toBe(1)
    }
  }, 420_000)
})
