import { list, type Sql } from './sql.js'

export type RetentionPolicy = {
  /** Delivery ids kept for dedupe; longer than any sender's retry horizon (Meta: 7 days). */
  deliveriesMs: number
  /** Finished triage retries (jobs) kept (for inspection) before they are deleted. */
  jobsMs: number
}

/** Rows deleted per statement: a sweep never holds the write lock for long. */
const CHUNK = 2000

/**
 * Deletes what has outlived its use: webhook delivery ids past the dedupe horizon (each message
 * stays deduplicated for good by its own id) and finished triage retries. Messages, decisions,
 * tickets, the outbox and the audit log are the record and are kept.
 */
export async function purgeExpired(
  db: Sql,
  now: number,
  policy: RetentionPolicy,
): Promise<{ deliveries: number; jobs: number }> {
  const deliveries = (cutoff: number) =>
    db.transaction(async (tx) => {
      const ids = (
        await tx.all<{ id: number }>(
          `select id from webhook_deliveries where received_at < ? limit ${CHUNK}`,
          [cutoff],
        )
      ).map((r) => r.id)
      if (ids.length === 0) return { changes: 0 }
      // A message keeps its own id (and its dedupe) for good; only its link to the delivery goes.
      await tx.run(
        `update messages set delivery_id = null where delivery_id in (${list(ids)})`,
        ids,
      )
      return tx.run(`delete from webhook_deliveries where id in (${list(ids)})`, ids)
    })
  const jobs = (cutoff: number) =>
    db.run(
      `delete from jobs where id in
         (select id from jobs where status = 'done' and run_at < ? limit ${CHUNK})`,
      [cutoff],
    )
  const sweep = async (
    statement: (cutoff: number) => Promise<{ changes: number }>,
    cutoff: number,
  ) => {
    let total = 0
    for (;;) {
      const { changes } = await statement(cutoff)
      total += changes
      if (changes < CHUNK) return total
    }
  }
  return {
    deliveries: await sweep(deliveries, now - policy.deliveriesMs),
    jobs: await sweep(jobs, now - policy.jobsMs),
  }
}

/** Console sessions past their expiry. */
export async function purgeSessions(db: Sql, now: number): Promise<number> {
  return (await db.run('delete from console_sessions where expires_at < ?', [now])).changes
}
