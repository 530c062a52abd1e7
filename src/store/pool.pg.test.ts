import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { openPostgres } from './postgres.js'

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
})
