/**
 * The store's one door to a database engine: SQL text with `?` placeholders, run on SQLite
 * (`sqlite.ts`) or PostgreSQL alike, asynchronous so that either can answer. Repositories write
 * SQL both engines read; where they differ, `dialect` says which one runs it.
 */
export interface Sql {
  readonly dialect: Dialect
  /** Every row of a query. */
  all<T = Row>(text: string, params?: readonly SqlValue[]): Promise<T[]>
  /**
   * Every row of a query as an array of its columns' values, in the query's order: for wide
   * rows read often (a message with its conversation and contact), cheaper than named columns.
   */
  values(text: string, params?: readonly SqlValue[]): Promise<unknown[][]>
  /** The first row of a query, if any. */
  get<T = Row>(text: string, params?: readonly SqlValue[]): Promise<T | undefined>
  /** Runs a statement; `changes` is how many rows it wrote. */
  run(text: string, params?: readonly SqlValue[]): Promise<{ changes: number }>
  /**
   * Runs `body` in a transaction that writes (SQLite: BEGIN IMMEDIATE, so it holds the write
   * lock from its start); a throw rolls it back. Inside a transaction it is a savepoint: the
   * body's writes roll back alone and the outer transaction goes on. Everything the body does
   * goes through `tx`: the database itself waits until the transaction ends.
   */
  transaction<T>(body: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T>
  /**
   * Where a statement commits on its own at once, also from inside a transaction: for a
   * counter whose row must not stay locked until the transaction ends (PostgreSQL: another
   * connection of the pool, so what it writes stays when the transaction rolls back). On
   * SQLite, where one writer runs at a time anyway, this very door.
   */
  autonomous(): Sql
}

/** How a transaction runs (a savepoint's are its transaction's). */
export type TransactionOptions = {
  /**
   * PostgreSQL: its prepared statements run on the plan kept for any values from their first
   * run (`plan_cache_mode = force_generic_plan` for the transaction, sent with its BEGIN), not
   * planned for their values their first five runs on each connection, and again whenever such
   * a plan looks cheaper. For the triage slice, whose claim and reads are each planned in 1–5
   * ms: their kept plans are the ones `kept-plans.pg.test.ts` checks. SQLite plans as it
   * prepares.
   */
  keptPlans?: boolean
}

export type Dialect = 'sqlite' | 'postgres'
export type SqlValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | null
  /** PostgreSQL only: an array, for statements over many rows at once (`unnest(?::text[])`). */
  | readonly (string | number | null)[]
export type Row = Record<string, unknown>
/** A statement to run later, or along with another (`DecisionLog.flush`). */
export type Statement = { text: string; params: SqlValue[] }

/** Placeholders for a list of values: `in (${list(ids)})`. */
export const list = (values: readonly unknown[]): string =>
  values.length === 0 ? 'null' : values.map(() => '?').join(', ')

/** A JSON text column's field as text: `json_extract` on SQLite, `->>` on PostgreSQL. */
export function jsonText(sql: Pick<Sql, 'dialect'>, column: string, field: string): string {
  return sql.dialect === 'sqlite'
    ? `json_extract(${column}, '$.${field}')`
    : `(${column}::jsonb ->> '${field}')`
}

/** The larger of two values (SQLite's two-argument `max`, PostgreSQL's `greatest`). */
export function greatest(sql: Pick<Sql, 'dialect'>, a: string, b: string): string {
  return sql.dialect === 'sqlite' ? `max(${a}, ${b})` : `greatest(${a}, ${b})`
}

/** A JSON text column with the fields of a JSON object (a placeholder) merged into it. */
export function jsonMerge(sql: Pick<Sql, 'dialect'>, column: string): string {
  return sql.dialect === 'sqlite'
    ? `json_patch(${column}, ?)`
    : `(${column}::jsonb || ?::jsonb)::text`
}

/** A JSON text column with one field set to a text value (a placeholder). */
export function jsonSetText(sql: Pick<Sql, 'dialect'>, column: string, field: string): string {
  return sql.dialect === 'sqlite'
    ? `json_set(${column}, '$.${field}', ?)`
    : `jsonb_set(${column}::jsonb, '{${field}}', to_jsonb(?::text))::text`
}

/** The upstream of an outbox kind: what comes before its first dot (`chatwoot.labels`). */
export function upstreamOf(sql: Pick<Sql, 'dialect'>, column: string): string {
  return sql.dialect === 'postgres'
    ? `split_part(${column}, '.', 1)`
    : `substr(${column}, 1, instr(${column} || '.', '.') - 1)`
}
