import type { Sql } from '../../src/store/sql.js'

/**
 * Runs `body` in a transaction kept open until `release()` is called, as an instance in the
 * middle of its work: `result` settles with what the body returned as soon as it has it (or
 * with its error), `done` when the transaction has ended.
 */
export function holdTransaction<T>(sql: Sql, body: (tx: Sql) => Promise<T>) {
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let settle!: (value: T) => void
  let fail!: (error: unknown) => void
  const result = new Promise<T>((resolve, reject) => {
    settle = resolve
    fail = reject
  })
  const done = sql.transaction(async (tx) => {
    settle(await body(tx))
    await released
  })
  done.catch(fail)
  return { result, release, done }
}
