import { AsyncLocalStorage } from 'node:async_hooks'
import type Database from 'better-sqlite3'
import type { Row, Sql, SqlValue } from './sql.js'

/**
 * The store on SQLite: one connection (better-sqlite3, synchronous), shared by the whole hub.
 *
 * A transaction spans awaits (its body is asynchronous, so the same code runs on PostgreSQL),
 * and on one connection every statement runs inside whatever transaction is open: while one
 * is open, everything else waits for it to end. Its body runs its statements through `tx`; a
 * statement on the database itself from inside the body would wait for its own transaction,
 * so it throws instead.
 */
export function sqliteSql(connection: Database.Database): Sql {
  // Only under test: on Node 20 an AsyncLocalStorage in use slows every promise of the process.
  const insideTransaction = process.env.VITEST ? new AsyncLocalStorage<true>() : null
  /** Settles when the open transaction ends; null when none is open. */
  let open: Promise<void> | null = null
  const prepare = (text: string) => connection.prepare(text)
  const run = {
    all: <T>(text: string, params?: readonly SqlValue[]) =>
      prepare(text).all(...bind(params)) as T[],
    values: (text: string, params?: readonly SqlValue[]) =>
      prepare(text)
        .raw(true)
        .all(...bind(params)) as unknown[][],
    get: <T>(text: string, params?: readonly SqlValue[]) =>
      prepare(text).get(...bind(params)) as T | undefined,
    run: (text: string, params?: readonly SqlValue[]) => ({
      changes: prepare(text).run(...bind(params)).changes,
    }),
  }
  // Waits for the open transaction to end, then runs `next` in the same turn: nothing else can
  // begin a transaction in between (the check and the statement are one synchronous step).
  const whenFree = async <T>(next: () => T): Promise<T> => {
    while (open !== null) {
      if (insideTransaction?.getStore())
        throw new Error('a statement on the database inside its own transaction: use the tx')
      await open
    }
    return next()
  }
  let savepoints = 0
  const tx: Sql = {
    dialect: 'sqlite',
    all: async (text, params) => run.all(text, params),
    values: async (text, params) => run.values(text, params),
    get: async (text, params) => run.get(text, params),
    run: async (text, params) => run.run(text, params),
    autonomous: () => tx,
    async transaction(body) {
      const name = `s${++savepoints}`
      prepare(`SAVEPOINT ${name}`).run()
      try {
        const result = await body(tx)
        prepare(`RELEASE ${name}`).run()
        return result
      } catch (err) {
        prepare(`ROLLBACK TO ${name}`).run()
        prepare(`RELEASE ${name}`).run()
        throw err
      } finally {
        savepoints--
      }
    },
  }
  const door: Sql = {
    dialect: 'sqlite',
    autonomous: () => door,
    // Outside a transaction a statement runs at once (the connection is free between them).
    all: (text, params) => (open !== null ? whenFree : settle)(() => run.all(text, params)),
    values: (text, params) => (open !== null ? whenFree : settle)(() => run.values(text, params)),
    get: (text, params) => (open !== null ? whenFree : settle)(() => run.get(text, params)),
    run: (text, params) => (open !== null ? whenFree : settle)(() => run.run(text, params)),
    async transaction<T>(body: (tx: Sql) => Promise<T>): Promise<T> {
      while (open !== null) {
        if (insideTransaction?.getStore())
          throw new Error('a transaction on the database inside its own transaction: use the tx')
        await open
      }
      let end!: () => void
      open = new Promise((resolve) => {
        end = resolve
      })
      try {
        // IMMEDIATE takes the write lock at BEGIN: a transaction that read first and wrote later
        // would fail with SQLITE_BUSY when another process (the CLI) wrote in between.
        prepare('BEGIN IMMEDIATE').run()
        try {
          const result = await (insideTransaction
            ? insideTransaction.run(true, () => body(tx))
            : body(tx))
          prepare('COMMIT').run()
          return result
        } catch (err) {
          if (connection.inTransaction) prepare('ROLLBACK').run()
          throw err
        }
      } finally {
        open = null
        end()
      }
    },
  }
  return door
}

/** Runs `next` now, as a promise of its result (or of its error). */
function settle<T>(next: () => T): Promise<T> {
  try {
    return Promise.resolve(next())
  } catch (err) {
    return Promise.reject(err)
  }
}

/** SQLite binds no booleans: they are stored as 1 and 0. */
function bind(params: readonly SqlValue[] | undefined): unknown[] {
  if (!params) return []
  let out: unknown[] | null = null
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    if (typeof value === 'boolean') {
      out ??= [...params]
      out[i] = value ? 1 : 0
    }
  }
  return (out ?? params) as unknown[]
}

export type { Row }
