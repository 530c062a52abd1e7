import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { packageRoot } from '../package-root.js'
import * as schema from './schema.js'
import type { Sql } from './sql.js'
import { sqliteSql } from './sqlite.js'

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database }

/**
 * Opens (creating if needed) the SQLite database and applies pending migrations.
 *
 * WAL lets readers (admin API, console) run while the worker writes. `synchronous=NORMAL` in
 * WAL mode keeps every committed transaction across a process crash (kill -9); only an OS
 * crash or power cut can lose the last commits. Set `SQLITE_SYNCHRONOUS=FULL` for that too.
 *
 * `temp_store=MEMORY` keeps SQLite's temporary files in memory. The one that matters is the
 * savepoint journal: the hub writes each message in a savepoint inside a larger transaction (a
 * group commit, a triage slice), and the journal of the pages those savepoints changed went to
 * a file once it passed 64 KiB: a temporary file created and deleted every few messages, and
 * about half of the hub's writes (docs/performance.md). In memory it holds a slice's changed
 * pages at most.
 */
export function openDatabase(path: string, options: { synchronous?: 'NORMAL' | 'FULL' } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new Database(path)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`)
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('temp_store = MEMORY')
  cachePreparedStatements(sqlite)
  const db = drizzle(sqlite, { schema }) as Db
  migrate(db, { migrationsFolder: join(packageRoot(), 'src', 'store', 'migrations') })
  return db
}

export function closeDatabase(db: Db): void {
  if (db.$client.open) db.$client.close()
}

/**
 * Drizzle prepares every query it runs; compiling the same SQL again is most of a small
 * query's cost. The connection keeps its recent statements by SQL text (bounded, least
 * recently used out), reset to object rows before each reuse.
 */
function cachePreparedStatements(sqlite: Database.Database, size = 512): void {
  const prepare = sqlite.prepare.bind(sqlite)
  const cache = new Map<string, Database.Statement>()
  sqlite.prepare = ((source: string) => {
    const cached = cache.get(source)
    if (cached) {
      cache.delete(source)
      cache.set(source, cached)
      if (cached.reader) cached.raw(false)
      return cached
    }
    const statement = prepare(source)
    cache.set(source, statement)
    if (cache.size > size) cache.delete(cache.keys().next().value!)
    return statement
  }) as typeof sqlite.prepare
}

/**
 * The store's door to the database (`Sql`): one per connection, so that every user of the
 * connection waits for the same open transaction (`sqlite.ts`).
 */
export function sqlOf(db: Db): Sql {
  let sql = doors.get(db.$client)
  if (!sql) {
    sql = sqliteSql(db.$client)
    doors.set(db.$client, sql)
  }
  return sql
}

const doors = new WeakMap<Database.Database, Sql>()
