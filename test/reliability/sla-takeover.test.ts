import { afterAll, beforeAll, expect, it } from 'vitest'
import { openPostgres } from '../../src/store/postgres.js'
import { deliver, payloads } from '../helpers/deliveries.js'
import { tempDir } from '../helpers/hub.js'
import { startPostgres, type TestPostgres } from '../helpers/postgres.js'
import { type ServeProcess, startServe } from '../helpers/process.js'
import { describeWithService } from '../helpers/services.js'
import { waitFor } from '../helpers/wait.js'
import { hubEnv, type ReliabilityUpstreams, startReliabilityUpstreams } from './harness.js'

// The SLA clock on several instances: two `centralita serve` on one PostgreSQL (their clocks
// take turns under a lock), cases whose deadlines fall a few seconds apart, and one instance
// killed with SIGKILL once the first deadlines fired — possibly in the middle of a run. The
// other fires the rest: every SLA event exactly once, none lost in the takeover, each alert
// queued once.

const CASES = 6
const STEP_MS = 500

describeWithService('postgres', 'the SLA clock across instances', () => {
  let up: ReliabilityUpstreams
  let postgres: TestPostgres
  let temp: ReturnType<typeof tempDir>
  const hubs: ServeProcess[] = []

  beforeAll(async () => {
    ;[up, postgres] = await Promise.all([startReliabilityUpstreams(), startPostgres()])
    temp = tempDir()
  }, 90_000)
  afterAll(async () => {
    for (const hub of hubs) {
      hub.child.kill('SIGKILL')
      await hub.exited
    }
    await up?.close()
    postgres?.stop()
    temp?.cleanup()
  })

  it('fires each deadline once when an instance dies in the middle', async () => {
    const url = postgres.database()
    const env = { ...hubEnv(up, temp.dir), DATABASE_URL: url, DATABASE_POOL_SIZE: '6' }
    for (const id of ['sla-a', 'sla-b'])
      hubs.push(await startServe({ ...env, INSTANCE_ID: id }, { timeoutMs: 60_000 }))
    const [a, b] = hubs as [ServeProcess, ServeProcess]
    // Complaints: each a ticket at L1 with its escalation, deadlines hours away.
    for (let i = 0; i < CASES; i++) {
      const res = await deliver(a.base).chatwoot(
        payloads.chatwoot(
          9100 + i,
          910 + i,
          `El pedido ${i} llegó roto y nadie me responde, pésimo servicio`,
          { id: 91 + i, name: `Cliente ${i}` },
        ),
        `sla-${i}`,
      )
      expect(res.status).toBe(200)
    }
    const pg = openPostgres(url, { max: 2 })
    try {
      const count = async (sql: string) => Number((await pg.sql.get<{ n: number }>(sql))?.n ?? 0)
      await waitFor(
        async () =>
          (await count(`select count(*) as n from escalations where status = 'pendiente'`)) ===
          CASES,
        { timeoutMs: 30_000, what: 'the cases and their escalations' },
      )
      // Bring the deadlines close, a step apart, and tell the instances the cases changed.
      const start = Date.now() + 1500
      const tickets = await pg.sql.all<{ id: number }>('select id from tickets order by id')
      for (const [i, { id }] of tickets.entries()) {
        await pg.sql.run('update tickets set first_response_due_at = ? where id = ?', [
          start + i * STEP_MS,
          id,
        ])
        await pg.sql.run(
          `update escalations set sla_due_at = ? where ticket_id = ? and status = 'pendiente'`,
          [start + i * STEP_MS + STEP_MS / 2, id],
        )
      }
      await pg.sql.run(`select pg_notify('centralita', 'cases')`)
      // Once the first deadlines fired, the instance that fired them dies.
      await waitFor(async () => (await count(`select count(*) as n from sla_events`)) >= 4, {
        timeoutMs: 20_000,
        what: 'the first SLA events',
      })
      const before = await count(`select count(*) as n from sla_events`)
      a.child.kill('SIGKILL')
      await a.exited
      // Each ticket's first-response breach, each escalation's warning and breach: all fire.
      const expected = CASES * 3
      await waitFor(
        async () =>
          (await count(
            `select count(*) as n from sla_events
              where kind in ('first_response_breach', 'warning', 'breach')`,
          )) >= expected,
        { timeoutMs: 30_000, what: 'every SLA event, after the takeover' },
      )
      expect(before).toBeLessThan(expected)
      const events = await pg.sql.all<{ subject: string; kind: string; n: number }>(
        `select subject, kind, count(*) as n from sla_events group by subject, kind order by subject, kind`,
      )
      expect(
        events.filter((e) => ['first_response_breach', 'warning', 'breach'].includes(e.kind)),
      ).toHaveLength(expected)
      expect(events.every((e) => Number(e.n) === 1)).toBe(true)
      // Each breach moved its case up once (L1 → L2), and each alert was queued once.
      expect(
        await count(
          `select count(*) as n from escalations where to_level = 'L2' and from_level = 'L1'`,
        ),
      ).toBe(CASES)
      const keys = await pg.sql.all<{ key: string }>(
        `select idempotency_key as "key" from outbox where idempotency_key like '%breach%'`,
      )
      expect(keys.length).toBeGreaterThanOrEqual(CASES * 2)
      expect(new Set(keys.map((k) => k.key)).size).toBe(keys.length)
      // The instance left standing is the one that answers.
      expect((await fetch(`${b.base}/readyz`)).status).toBe(200)
    } finally {
      await pg.close()
    }
  }, 180_000)
})
