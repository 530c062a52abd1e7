import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { Column, getTableColumns, type Placeholder, sql } from 'drizzle-orm'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import type { BaseSQLiteDatabase, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { packageRoot } from '../package-root.js'
import * as schema from './schema.js'

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database }

/** The database or a transaction on it: what store helpers take so callers can compose them. */
export type Executor = BaseSQLiteDatabase<'sync', Database.RunResult, typeof schema>

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
 * a file once it passed 64 KiB. Under the bench's load that meant a temporary file created and
 * deleted every ten messages or so, and half of all the hub's `pwrite` calls: 27.6 per message
 * with a file, 13.5 without (`strace -c` over 3,000 webhooks). It holds a slice's changed pages
 * at most, a few hundred KiB.
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
 * A query built once per connection and run again with new values: drizzle's `prepare()`,
 * with `sql.placeholder` where values go. Building a query (drizzle turning the builder into
 * SQL) costs several times more than SQLite running it, so the queries that run for every
 * message are built this way. The query belongs to the connection, so it runs inside or
 * outside a transaction on it alike.
 */
export function prepared<Query>(build: (db: Executor) => Query): (db: Executor) => Query {
  const byConnection = new WeakMap<Database.Database, Query>()
  return (db) => {
    const connection = connectionOf(db)
    let query = byConnection.get(connection)
    if (query === undefined) {
      query = build(db)
      byConnection.set(connection, query)
    }
    return query
  }
}

export function connectionOf(db: Executor): Database.Database {
  return (db as unknown as { session: { client: Database.Database } }).session.client
}

/**
 * A table's rows read without drizzle: its columns for a hand-written SELECT (`columns('m')`,
 * in schema order) and the decoder of a raw row (an array) back into drizzle's row type, with
 * the same conversions (booleans, JSON, timestamps). drizzle maps every field of every row
 * through generic code; for the three-table row the triage reads per message, reading it raw
 * took 5.5 µs instead of 9.7 in a loop (and allocates a third as much).
 */
export function rawRows<Table extends SQLiteTable>(table: Table) {
  const identity = Column.prototype.mapFromDriverValue
  const columns = Object.entries(getTableColumns(table)).map(([field, column]) => ({
    field,
    name: column.name,
    column: column.mapFromDriverValue === identity ? null : column,
  }))
  return {
    /** The column list, qualified by `alias`: `m."id", m."channel", …`. */
    columns: (alias: string) => columns.map((c) => `${alias}."${c.name}"`).join(', '),
    width: columns.length,
    /** The row whose columns start at `at` in a raw row. */
    read(row: readonly unknown[], at = 0): Table['$inferSelect'] {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < columns.length; i++) {
        const { field, column } = columns[i]!
        const value = row[at + i]
        out[field] = value === null || column === null ? value : column.mapFromDriverValue(value)
      }
      return out as Table['$inferSelect']
    },
  }
}

/** `{ name: sql.placeholder(name) }` for each name: the values of a prepared insert. */
export function placeholders<const Name extends string>(
  names: readonly Name[],
): Record<Name, Placeholder<Name>> {
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as Record<
    Name,
    Placeholder<Name>
  >
}

/**
 * A LIMIT written into a prepared query's SQL, for `.limit()`. drizzle binds a limit as a
 * parameter (`limit ?`), and SQLite's planner reads the value of a bound LIMIT, so the statement
 * is compiled again each time the parameter is bound: on every run. Timed here, the triage
 * queue's read took 20–25 µs with `limit ?` (the same value bound each time) and 1–3 µs with
 * `limit 8`. Callers that want fewer rows slice what it returns.
 */
export function fixedLimit(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`bad limit ${rows}`)
  // drizzle writes an SQL object in place of the parameter; the type says number only.
  return sql.raw(String(rows)) as unknown as number
}

/**
 * Runs `body` in a transaction that writes, and returns what it returns; a throw rolls it back.
 * Inside another transaction on the connection it is a savepoint: the body's writes roll back
 * alone and the outer transaction goes on.
 *
 * It begins IMMEDIATE, which takes the write lock at BEGIN (waiting up to `busy_timeout` for
 * it). A deferred transaction that reads first and then writes fails at once with SQLITE_BUSY
 * when another connection committed in between (the CLI's: `dlq replay` while the hub runs); one
 * that begins IMMEDIATE cannot.
 *
 * The body gets the database itself: on one connection every statement runs inside whatever
 * transaction is open. drizzle's `db.transaction` builds a transaction object (and
 * better-sqlite3 five wrapper functions) on every call, about 8 µs; the hub opens one or two per
 * message, so the wrapper here is built once per connection (under 1 µs a call).
 */
export function writeTransaction<T>(db: Executor, body: (tx: Executor) => T): T {
  const connection = connectionOf(db)
  let run = transactionRunners.get(connection)
  if (run === undefined) {
    run = connection.transaction((work: (tx: Executor) => unknown, tx: Executor) => work(tx))
    transactionRunners.set(connection, run)
  }
  return run.immediate(body, db) as T
}

const transactionRunners = new WeakMap<
  Database.Database,
  Database.Transaction<(work: (tx: Executor) => unknown, tx: Executor) => unknown>
>()
