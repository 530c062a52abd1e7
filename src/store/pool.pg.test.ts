import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { waitFor } from '../../test/helpers/wait.js'
import { silentLogger } from '../kit/logger.js'
import { openStore } from './open-store.js'
import { openPostgres } from './postgres.js'
import type { Topic } from './signals.js'

// A new connection costs its first statements tens of milliseconds (the server's process and
// caches, every statement parsed and planned again): the hub's stay open while idle.

describeWithService('postgres', "the hub's connections to PostgreSQL", () => {
  const postgres = postgresForSuite()

  it('stay open through a pause longer than the driver would keep them', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      const backend = () =>
        pg.sql.get<{ pid: number }>('select pg_backend_pid() as pid').then((r) => r?.pid)
      const before = await backend()
      // node-postgres closes a connection idle for 10 s unless told otherwise.
      await new Promise((resolve) => setTimeout(resolve, 10_500))
      expect(await backend()).toBe(before)
      expect(pg.pool.totalCount).toBe(1)
    } finally {
      await pg.close()
    }
  }, 30_000)

  it('reach a server on the same machine through its Unix socket', async () => {
    // `postgres://user@/db?host=/socket/folder&port=…`, as `DATABASE_URL`: migrations, the
    // pool and the instances' signals all go through the socket.
    const url = postgres.socketUrl(postgres.database())
    const [a, b] = [
      await openStore({ engine: 'postgres', url }),
      await openStore({ engine: 'postgres', url }),
    ]
    const heard: Topic[] = []
    const signals = [
      a.signals!(silentLogger, () => {}),
      b.signals!(silentLogger, (t) => heard.push(t)),
    ]
    try {
      const row = await a.sql.get<{ tcp: boolean; migrated: number | string }>(
        `select inet_client_addr() is not null as tcp,
                (select count(*) from centralita_migrations) as migrated`,
      )
      expect(row).toEqual({ tcp: false, migrated: expect.anything() })
      expect(Number(row?.migrated)).toBeGreaterThan(0)
      // The listener connects on its own: notify until it hears.
      await waitFor(
        async () => {
          signals[0]!.notify('triage')
          await new Promise((resolve) => setTimeout(resolve, 100))
          return heard.includes('triage')
        },
        { what: 'the other store to hear the notice' },
      )
    } finally {
      for (const s of signals) await s.close()
      await a.close()
      await b.close()
    }
  })
})
