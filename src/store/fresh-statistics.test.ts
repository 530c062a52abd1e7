import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { waitFor } from '../../test/helpers/wait.js'
import { silentLogger } from '../kit/logger.js'
import { keepStatisticsFresh } from './fresh-statistics.js'
import { migratePostgres, openPostgres } from './postgres.js'

describeWithService('postgres', 'statistics on a fast-growing database', () => {
  const postgres = postgresForSuite()

  it('analyzes a hot table once it has outgrown its statistics', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    const loop = keepStatisticsFresh({ sql: pg.sql, logger: silentLogger, everyMs: 200 })
    try {
      await migratePostgres(pg.sql)
      const analyzed = async () =>
        (
          await pg.sql.get<{ at: string | null }>(
            `select last_analyze as at from pg_stat_user_tables where relname = 'contacts'`,
          )
        )?.at ?? null
      expect(await analyzed()).toBeNull()
      await pg.sql.run(
        `insert into contacts (channel, external_id, created_at, updated_at)
         select 'test', 'c' || n, 0, 0 from generate_series(1, 2000) n`,
      )
      await waitFor(analyzed, { timeoutMs: 15_000, what: 'contacts analyzed' })
      const [row] = await pg.sql.all<{ n: number }>(
        `select reltuples as n from pg_class where relname = 'contacts'`,
      )
      expect(Number(row!.n)).toBeGreaterThan(1000)
    } finally {
      await loop?.stop()
      await pg.close()
    }
  }, 60_000)
})
