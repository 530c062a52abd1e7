import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { Executor } from './db.js'
import { jobs } from './schema.js'

export type ClaimedJob = { id: number; refId: number; attempts: number }

/**
 * Claims up to `limit` due jobs of `kind` for `leaseMs`. A job whose lease ran out (its worker
 * died mid-way) is due again, so work interrupted by a crash resumes after a restart.
 */
export function claimJobs(
  db: Executor,
  kind: string,
  limit: number,
  now: Date,
  leaseMs: number,
): ClaimedJob[] {
  const at = now.getTime()
  return db.transaction((tx) => {
    // Two index range reads (jobs_due: status, run_at) instead of one OR over the whole table:
    // due pending jobs, then running ones whose lease ran out (a dead worker's).
    const pending = tx
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.status, 'pending'), lte(jobs.runAt, at), eq(jobs.kind, kind)))
      .orderBy(asc(jobs.runAt), asc(jobs.id))
      .limit(limit)
      .all()
    const expired =
      pending.length < limit
        ? tx
            .select({ id: jobs.id })
            .from(jobs)
            .where(and(eq(jobs.status, 'running'), lte(jobs.lockedUntil, at), eq(jobs.kind, kind)))
            .orderBy(asc(jobs.id))
            .limit(limit - pending.length)
            .all()
        : []
    const due = [...pending, ...expired]
    if (due.length === 0) return []
    return tx
      .update(jobs)
      .set({
        status: 'running',
        lockedUntil: at + leaseMs,
        attempts: sql`${jobs.attempts} + 1`,
        updatedAt: at,
      })
      .where(
        inArray(
          jobs.id,
          due.map((row) => row.id),
        ),
      )
      .returning({ id: jobs.id, refId: jobs.refId, attempts: jobs.attempts })
      .all()
  })
}

export function completeJob(db: Executor, id: number, now: Date): void {
  db.update(jobs)
    .set({ status: 'done', lockedUntil: null, lastError: null, updatedAt: now.getTime() })
    .where(eq(jobs.id, id))
    .run()
}

/** Schedules another try at `retryAt`, or marks the job failed for good when it is null. */
export function failJob(
  db: Executor,
  id: number,
  error: string,
  retryAt: Date | null,
  now: Date,
): void {
  db.update(jobs)
    .set({
      status: retryAt ? 'pending' : 'failed',
      runAt: retryAt ? retryAt.getTime() : undefined,
      lockedUntil: null,
      lastError: error.slice(0, 2000),
      updatedAt: now.getTime(),
    })
    .where(eq(jobs.id, id))
    .run()
}

/** Jobs of `kind` not yet done: what readiness and the overview report as backlog. */
export function pendingJobCount(db: Executor, kind: string): number {
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(jobs)
    .where(and(eq(jobs.kind, kind), inArray(jobs.status, ['pending', 'running'])))
    .get()
  return row?.n ?? 0
}
