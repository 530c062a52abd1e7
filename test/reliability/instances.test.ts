import { afterAll, beforeAll, expect, it } from 'vitest'
import { SECRETS } from '../helpers/deliveries.js'
import { tempDir } from '../helpers/hub.js'
import { startPostgres, type TestPostgres } from '../helpers/postgres.js'
import { freePort, type ServeProcess, startServe } from '../helpers/process.js'
import { describeWithService } from '../helpers/services.js'
import {
  type Delivery,
  expectEachProcessedOnce,
  hubEnv,
  mixedTraffic,
  type ReliabilityUpstreams,
  SIZES,
  startReliabilityUpstreams,
  upstreamDuplicates,
} from './harness.js'

// Three `centralita serve` processes on one PostgreSQL behind no balancer but the sender's own
// spreading: each delivery goes to the next instance, a duplicate sent at the same moment goes
// to two instances at once. Mid-run one instance is killed with SIGKILL and restarted, another
// is stopped for good. Every acknowledged message must be stored, triaged and acted on once.

describeWithService('postgres', 'several instances on one PostgreSQL', () => {
  let up: ReliabilityUpstreams
  let postgres: TestPostgres
  let temp: ReturnType<typeof tempDir>
  const hubs: (ServeProcess | null)[] = [null, null, null]

  beforeAll(async () => {
    ;[up, postgres] = await Promise.all([startReliabilityUpstreams(), startPostgres()])
    temp = tempDir()
  }, 90_000)
  afterAll(async () => {
    for (const hub of hubs) {
      hub?.child.kill('SIGKILL')
      await hub?.exited
    }
    await up?.close()
    postgres?.stop()
    temp?.cleanup()
  })

  it('stores, triages and acts on each delivery once across instances, through a kill and a stop', async () => {
    const url = postgres.database()
    const env = { ...hubEnv(up, temp.dir), DATABASE_URL: url, DATABASE_POOL_SIZE: '6' }
    const ports = await Promise.all(hubs.map(() => freePort()))
    const bases = ports.map((port) => `http://127.0.0.1:${port}`)
    const start = async (i: number) => {
      hubs[i] = await startServe(
        { ...env, INSTANCE_ID: `hub-${i}` },
        { port: ports[i]!, timeoutMs: 60_000 },
      )
    }
    // Started together: the migrations are applied once, under their lock.
    await Promise.all(hubs.map((_, i) => start(i)))
    up.graph.sendStatusesTo(`${bases[0]}/webhooks/whatsapp`, SECRETS.whatsapp)
    // Each instance says which one it is, on which database, with how many triage lanes, on
    // /readyz and in /metrics.
    const ready = (await (await fetch(`${bases[1]}/readyz`)).json()) as {
      status: string
      checks: Record<string, string>
    }
    expect(ready).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', engine: 'postgres', instance: 'hub-1', triage_lanes: '2' },
    })
    expect(await (await fetch(`${bases[2]}/metrics`)).text()).toMatch(
      /centralita_outbox_depth\{[^}]*instance="hub-2"/,
    )

    const count = Math.max(150, Math.floor(SIZES.messages / 3))
    const { unique, stream } = mixedTraffic(count, 'multi')
    const down = new Set<number>()
    const statuses = new Map<number, number>()
    let failures = 0
    // A sender that retries until acknowledged, on the next instance when one does not answer.
    const send = async (d: Delivery, first: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const i = (first + attempt) % bases.length
        if (down.has(i)) continue
        try {
          const res = await d.send(bases[i]!)
          await res.arrayBuffer()
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          if (res.status === 200) return
        } catch {
          failures++
        }
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`gave up on ${d.id}`)
    }
    let next = 0
    const worker = async () => {
      while (next < stream.length) {
        const at = next++
        // Duplicates of a group go to different instances at the same moment.
        await Promise.all(stream[at]!.map((d, j) => send(d, at + j)))
      }
    }
    const sending = Promise.all(Array.from({ length: 12 }, worker))

    // A third of the way in, instance 1 is killed and comes back; two thirds in, 2 stops.
    await waitUntil(() => next > stream.length / 3)
    hubs[1]!.child.kill('SIGKILL')
    await hubs[1]!.exited
    await start(1)
    await waitUntil(() => next > (2 * stream.length) / 3)
    down.add(2)
    hubs[2]!.child.kill('SIGTERM')
    await hubs[2]!.exited
    hubs[2] = null
    await sending

    // No instance answered 5xx: every delivery was acknowledged, some after a retry elsewhere
    // (the killed and the stopped instances' requests failed on the way).
    expect(failures).toBeGreaterThan(0)
    expect([...statuses.keys()]).toEqual([200])
    expect(statuses.get(200)).toBe(stream.reduce((n, g) => n + g.length, 0))

    await expectEachProcessedOnce(url, unique, hubs[0]!)
    const dupes = upstreamDuplicates(up)
    expect(dupes.chatwoot).toEqual([])
    expect(dupes.mirrors).toEqual([])
    expect(dupes.reassigned).toEqual([])
    expect(dupes.whatsapp).toEqual([])
    expect(dupes.sent.chatwoot).toBeGreaterThan(0)
    expect(dupes.sent.whatsapp).toBeGreaterThan(0)
    // SMTP has no idempotency key: only a send cut short by the SIGKILL may go out again.
    expect(dupes.email.length).toBeLessThanOrEqual(16)
  }, 420_000)
})

async function waitUntil(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20))
}
