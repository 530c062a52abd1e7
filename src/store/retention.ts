import { lt } from 'drizzle-orm'
import type { Db } from './db.js'
import { consoleSessions } from './schema.js'

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
export function purgeExpired(
  db: Db,
  now: number,
  policy: RetentionPolicy,
): { deliveries: number; jobs: number } {
  const sqlite = db.$client
  const expiredDeliveries = sqlite.prepare(
    `select id from webhook_deliveries where received_at < ? limit ${CHUNK}`,
  )
  // A message keeps its own id (and its dedupe) for good; only its link to the delivery goes.
  const unlink = sqlite.prepare(
    'update messages set delivery_id = null where delivery_id in (select value from json_each(?))',
  )
  const dropDeliveries = sqlite.prepare(
    'delete from webhook_deliveries where id in (select value from json_each(?))',
  )
  const deliveries = {
    run: (cutoff: number) =>
      sqlite
        .transaction(() => {
          const ids = (expiredDeliveries.all(cutoff) as { id: number }[]).map((r) => r.id)
          if (ids.length === 0) return { changes: 0 }
          unlink.run(JSON.stringify(ids))
          return dropDeliveries.run(JSON.stringify(ids))
        })
        .immediate(),
  }
  const jobs = sqlite.prepare(
    `delete from jobs where id in
       (select id from jobs where status = 'done' and run_at < ? limit ${CHUNK})`,
  )
  const sweep = (statement: { run: (cutoff: number) => { changes: number } }, cutoff: number) => {
    let total = 0
    for (;;) {
      const { changes } = statement.run(cutoff)
      total += changes
      if (changes < CHUNK) return total
    }
  }
  return {
    deliveries: sweep(deliveries, now - policy.deliveriesMs),
    jobs: sweep(jobs, now - policy.jobsMs),
  }
}

/** Console sessions past their expiry. */
export function purgeSessions(db: Db, now: number): number {
  return db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now)).run().changes
}
