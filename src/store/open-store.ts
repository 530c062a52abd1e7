import type { DatabaseTarget } from '../config.js'
import type { Logger } from '../kit/logger.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { migratePostgres, openPostgres } from './postgres.js'
import { postgresSignals, type Signals, type Topic } from './signals.js'
import type { Sql } from './sql.js'

/** The hub's database, open and migrated: its `Sql` door, and the SQLite handle on SQLite. */
export type Store = {
  sql: Sql
  /** The SQLite database itself (null on PostgreSQL). */
  sqlite: Db | null
  /** On PostgreSQL, how instances wake each other (`signals.ts`); one instance has no need. */
  signals?: (logger: Logger, onNotice: (topic: Topic) => void) => Signals
  close(): Promise<void>
}

/** Opens the SQLite file and applies its migrations (synchronous, as better-sqlite3 is). */
export function openSqliteStore(path: string): Store {
  const db = openDatabase(path)
  return {
    sql: sqlOf(db),
    sqlite: db,
    close: async () => closeDatabase(db),
  }
}

/** Opens the database `DATABASE_URL` names and applies the migrations it lacks. */
export async function openStore(
  target: DatabaseTarget,
  options: { poolSize?: number } = {},
): Promise<Store> {
  if (target.engine === 'sqlite') return openSqliteStore(target.path)
  const pg = openPostgres(target.url, { max: options.poolSize ?? 10 })
  try {
    await migratePostgres(pg.sql)
  } catch (err) {
    await pg.close()
    throw err
  }
  return {
    sql: pg.sql,
    sqlite: null,
    signals: (logger, onNotice) =>
      postgresSignals({ url: target.url, pool: pg.pool, logger, onNotice }),
    close: () => pg.close(),
  }
}

/**
 * The SQLite handle of a store (tests and tools read the database through it). A hub on
 * PostgreSQL has none, and reaching for it says so.
 */
export function sqliteOf(store: Store): Db {
  return (
    store.sqlite ??
    new Proxy({} as Db, {
      get() {
        throw new Error('the hub runs on PostgreSQL: use hub.sql')
      },
    })
  )
}
