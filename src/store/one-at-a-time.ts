import type { Sql } from './sql.js'

/** The work that runs on one instance at a time, with its advisory lock key. */
const TURNS = { triage: 0x63740001, sla: 0x63740002, storing: 0x63740003 } as const

/**
 * Makes transaction `tx` the only one of its kind running, across every instance on the same
 * PostgreSQL (a transaction-scoped advisory lock: released at commit or rollback, or when a
 * crashed instance's connection drops). On SQLite every write transaction already runs alone.
 */
export async function oneAtATime(tx: Sql, turn: keyof typeof TURNS): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get(`select ${waitForTurn}`, [TURNS[turn]])
}

/**
 * The SQL that waits for a turn (PostgreSQL), its key a placeholder: for a statement that
 * takes the turn along with reads of its own (`turnKey` is the value).
 */
export const waitForTurn = 'pg_advisory_xact_lock(?)'
export const turnKey = (turn: keyof typeof TURNS): number => TURNS[turn]

/**
 * Like `oneAtATime`, but gives up at once when another instance has the turn: false then (its
 * transaction goes on without it). Always true on SQLite.
 */
export async function ourTurn(tx: Sql, turn: keyof typeof TURNS): Promise<boolean> {
  if (tx.dialect !== 'postgres') return true
  const row = await tx.get<{ free: boolean }>('select pg_try_advisory_xact_lock(?) as free', [
    TURNS[turn],
  ])
  return row?.free === true
}

/**
 * Transactions that store messages run one at a time (`storing`), as every write does on
 * SQLite. Message ids are handed out when a row is inserted; if two such transactions ran at
 * once, the one with the lower ids could commit after the other, and the triage queue — a
 * cursor through ids — would pass its messages for good. One at a time, ids become visible in
 * order. (Deliveries are batched into one transaction per commit: `groupCommit`.)
 */
export const storingMessages = (tx: Sql) => oneAtATime(tx, 'storing')
