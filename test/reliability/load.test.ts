import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRETS } from '../helpers/deliveries.js'
import { tempDir } from '../helpers/hub.js'
import { type ServeProcess, startServe } from '../helpers/process.js'
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

// Thousands of signed webhooks over every inbound channel, 10% of them re-sent (some at the same
// moment as the original), against `centralita serve` in its own process on a real SQLite file.

describe('load', () => {
  let up: ReliabilityUpstreams
  let temp: ReturnType<typeof tempDir>
  let hub: ServeProcess

  beforeAll(async () => {
    up = await startReliabilityUpstreams()
    temp = tempDir()
    hub = await startServe(hubEnv(up, temp.dir), { timeoutMs: 60_000 })
    up.graph.sendStatusesTo(`${hub.base}/webhooks/whatsapp`, SECRETS.whatsapp)
  }, 90_000)
  afterAll(async () => {
    hub?.child.kill('SIGTERM')
    await hub?.exited
    await up?.close()
    temp?.cleanup()
  })

  it('stores every message once, triages it once, answers no 5xx, and sends each action once', async () => {
    const { unique, stream } = mixedTraffic(SIZES.messages, 'load')
    const report = await sendStream(hub.base, stream, { concurrency: 32 })
    const sent = stream.reduce((n, g) => n + g.length, 0)
    expect(report.failures).toBe(0)
    expect(report.requests).toBe(sent)
    // Every delivery acknowledged: accepted, or a duplicate recognised as such.
    expect([...report.statuses.keys()]).toEqual([200])

    const db = join(temp.dir, 'centralita.db')
    await expectEachProcessedOnce(db, unique, hub)

    const dupes = upstreamDuplicates(up)
    expect(dupes.chatwoot).toEqual([])
    expect(dupes.mirrors).toEqual([])
    expect(dupes.reassigned).toEqual([])
    expect(dupes.sent.agentAssignments).toBeGreaterThan(0)
    expect(dupes.whatsapp).toEqual([])
    expect(dupes.email).toEqual([])
    // Every channel's answers reached its upstream.
    expect(dupes.sent.chatwoot).toBeGreaterThan(0)
    expect(dupes.sent.mirrors).toBeGreaterThan(0)
    expect(dupes.sent.whatsapp).toBeGreaterThan(0)
    expect(dupes.sent.email).toBeGreaterThan(0)
    expect(up.chatwoot.violations()).toEqual([])
    expect(up.graph.violations()).toEqual([])
  }, 300_000)
})
