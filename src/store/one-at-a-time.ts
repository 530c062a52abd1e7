import type { Sql } from './sql.js'

/** The work that runs on one instance at a time, with its advisory lock key. */
const TURNS = { triage: 0x63740001, sla: 0x63740002 } as const

/**
 * Makes transaction `tx` the only one of its kind running, across every instance on the same
 * PostgreSQL (a transaction-scoped advisory lock: released at commit or rollback, or when a
 * crashed instance's connection drops). On SQLite every write transaction already runs alone.
 */
export async function oneAtATime(tx: Sql, turn: keyof typeof TURNS): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get('select pg_advisory_xact_lock(?)', [TURNS[turn]])
}
