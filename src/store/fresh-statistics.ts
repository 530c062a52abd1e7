import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import type { Sql } from './sql.js'

/** The tables the hot paths read by index, whose plans follow their statistics. */
const HOT_TABLES = [
  'messages',
  'triage_decisions',
  'contacts',
  'conversations',
  'tickets',
  'escalations',
  'outbox',
  'webhook_deliveries',
]

/**
 * On PostgreSQL, analyzes a hot table as soon as it has grown past what its statistics say
 * (at least doubled, and by 500 rows or more), every `everyMs`. Autovacuum does the same, but
 * looks once a minute and asks for less change only on large tables: a new database filled at
 * hundreds of messages a second is planned for minutes from the statistics of an empty one —
 * the triage queue's read (`id > ? … order by id limit 8`) then scans the table (0.7 ms a call
 * in the bench, docs/performance.md). A plan cached by a prepared statement is made again once
 * its tables are analyzed.
 */
export function keepStatisticsFresh(options: {
  sql: Sql
  logger: Logger
  everyMs?: number
}): Loop | undefined {
  // On SQLite the hub keeps no ANALYZE statistics: its plans follow the indexes.
  if (options.sql.dialect !== 'postgres') return undefined
  return startLoop({
    name: 'statistics',
    logger: options.logger,
    pollMs: options.everyMs ?? 10_000,
    runOnce: async (): Promise<'idle'> => {
      const stale = await options.sql.all<{ table: string }>(
        `select relname as "table" from pg_stat_user_tables
          where relname in (${HOT_TABLES.map((t) => `'${t}'`).join(', ')})
            and n_mod_since_analyze >= greatest(500, n_live_tup - n_mod_since_analyze)`,
      )
      for (const { table } of stale) {
        await options.sql.run(`analyze ${table}`)
        options.logger.debug({ table }, 'statistics refreshed')
      }
      return 'idle'
    },
  })
}
