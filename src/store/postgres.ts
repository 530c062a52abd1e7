import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { packageRoot } from '../package-root.js'
import type { Row, Sql, SqlValue, TransactionOptions } from './sql.js'

// bigint (times in milliseconds, ids, counts) and numeric (sums) read as numbers: every value
// the hub keeps fits in a double exactly (milliseconds until the year 287,396).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value))

/** A connection pool to PostgreSQL and the store's door on it. */
export type PostgresStore = { sql: Sql; pool: pg.Pool; close(): Promise<void> }

/**
 * The store on PostgreSQL (node-postgres): a pool of connections. A statement outside a
 * transaction takes any free connection; a transaction holds one connection from BEGIN to
 * COMMIT, and its body runs its statements on it through `tx` (a nested one is a savepoint on
 * the same connection). The repositories' SQL has `?` placeholders, numbered here.
 */
export function openPostgres(url: string, options: { max?: number } = {}): PostgresStore {
  // Connections stay open while idle (node-postgres closes them after 10 s by default): a new
  // one costs its first statements about 50 ms (the server's process, its caches, every
  // statement parsed and planned again on it), which a hub whose messages come more than 10 s
  // apart, the usual small business, paid on nearly every message. The pool still holds at
  // most `max`; a connection the server drops is replaced on the next statement. Idle ones do
  // not keep the process running (a command that is done exits).
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  })
  // An idle connection that fails (the server restarted) is dropped; the next query reconnects.
  pool.on('error', () => {})
  return { sql: poolSql(pool), pool, close: () => pool.end() }
}

type Queryable = Pick<pg.PoolClient, 'query'>

function door(on: Queryable, transaction: Sql['transaction'], outside?: () => Sql): Sql {
  const self: Sql = {
    dialect: 'postgres',
    all: async <T = Row>(text: string, params?: readonly SqlValue[]) =>
      (await on.query(statement(text, params))).rows as T[],
    values: async (text, params) =>
      (await on.query({ ...statement(text, params), rowMode: 'array' })).rows as unknown[][],
    get: async <T = Row>(text: string, params?: readonly SqlValue[]) =>
      (await on.query(statement(text, params))).rows[0] as T | undefined,
    run: async (text, params) => ({
      changes: (await on.query(statement(text, params))).rowCount ?? 0,
    }),
    transaction,
    autonomous: () => outside?.() ?? self,
  }
  return self
}

/**
 * A statement with parameters is sent prepared, by a name of its own: each connection parses
 * and plans it once and then only binds values (the repositories' statements are a fixed set).
 * One without parameters goes as a simple query, which may hold several statements (the
 * migrations).
 */
function statement(text: string, params: readonly SqlValue[] | undefined): pg.QueryConfig {
  if (!params || params.length === 0) return { text }
  const found = prepared(text)
  return found.name
    ? { name: found.name, text: found.sql, values: bind(params) }
    : { text: found.sql, values: bind(params) }
}

const preparedTexts = new Map<string, { sql: string; name?: string }>()

function prepared(text: string): { sql: string; name?: string } {
  const cached = preparedTexts.get(text)
  if (cached) return cached
  // Statements built with a varying number of values (`in (?, ?, …)`) are a few shapes each;
  // past a bound, new texts go unnamed.
  if (preparedTexts.size >= 10_000) return { sql: numbered(text) }
  const found = { sql: numbered(text), name: `c${preparedTexts.size + 1}` }
  preparedTexts.set(text, found)
  return found
}

/**
 * A transaction PostgreSQL chose to abort so another could go on (a deadlock, or a
 * serialization failure): running it again is expected to succeed.
 */
function mayRunAgain(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === '40P01' || code === '40001'
}

/** Tries of a transaction PostgreSQL aborted for another's sake. */
const TRIES = 3

function poolSql(pool: pg.Pool): Sql {
  const once = async <T>(
    body: (tx: Sql) => Promise<T>,
    options: TransactionOptions | undefined,
  ): Promise<T> => {
    const client = await pool.connect()
    try {
      // One simple query, one round trip, with the setting when asked for.
      await client.query(
        options?.keptPlans ? 'BEGIN; SET LOCAL plan_cache_mode = force_generic_plan' : 'BEGIN',
      )
      try {
        const result = await body(clientSql(client, outside))
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK')
        throw err
      }
    } finally {
      client.release()
    }
  }
  // Bodies do database work, plus wake-ups, counts and log lines (no call leaves the hub): one
  // that PostgreSQL aborted for a deadlock with another instance's runs again, as a whole; at
  // worst a wake-up or a log line is repeated.
  const outside: Sql = door(pool, async (body, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(body, options)
      } catch (err) {
        if (attempt >= TRIES || !mayRunAgain(err)) throw err
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20))
      }
    }
  })
  return outside
}

function clientSql(client: pg.PoolClient, outside: Sql): Sql {
  let savepoints = 0
  const tx: Sql = door(
    client,
    async (body) => {
      const name = `s${++savepoints}`
      await client.query(`SAVEPOINT ${name}`)
      try {
        const result = await body(tx)
        await client.query(`RELEASE SAVEPOINT ${name}`)
        return result
      } catch (err) {
        await client.query(`ROLLBACK TO SAVEPOINT ${name}`)
        await client.query(`RELEASE SAVEPOINT ${name}`)
        throw err
      } finally {
        savepoints--
      }
    },
    () => outside,
  )
  return tx
}

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`, outside quoted strings and identifiers (the
 * repositories use no `?` operator of jsonb: `jsonb_exists` says the same).
 */
export function numbered(text: string): string {
  let out = ''
  let n = 0
  let quote: string | null = null
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = null
    } else if (char === "'" || char === '"') quote = char
    else if (char === '?') {
      out += `$${++n}`
      continue
    }
    out += char
  }
  return out
}

/** Booleans are kept as 0 and 1 on both engines, so the SQL that compares them is the same. */
function bind(params: readonly SqlValue[] | undefined): unknown[] {
  if (!params) return []
  return params.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value))
}

/**
 * Applies the PostgreSQL migrations not applied yet (`src/store/migrations-pg/*.sql`, in name
 * order), each in a transaction, under an advisory lock so that instances starting together
 * apply each once.
 */
export async function migratePostgres(sql: Sql): Promise<string[]> {
  const folder = join(packageRoot(), 'src', 'store', 'migrations-pg')
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  return sql.transaction(async (tx) => {
    await tx.run('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK])
    await tx.run(
      `create table if not exists centralita_migrations (
         name text primary key, applied_at bigint not null)`,
    )
    const done = new Set(
      (await tx.all<{ name: string }>('select name from centralita_migrations')).map((r) => r.name),
    )
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file)) continue
      await tx.run(readFileSync(join(folder, file), 'utf8'))
      await tx.run('insert into centralita_migrations (name, applied_at) values (?, ?)', [
        file,
        Date.now(),
      ])
      applied.push(file)
    }
    return applied
  })
}

/** The advisory lock key that serializes migrations ("cent" in ASCII). */
const MIGRATION_LOCK = 0x63656e74
