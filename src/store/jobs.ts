import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import { type Executor, IMMEDIATE, prepared } from './db.js'
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
    const values = { kind, at, limit }
    const pending = duePendingJobs(tx).all(values)
    const expired =
      pending.length < limit
        ? expiredJobs(tx).all({ ...values, limit: limit - pending.length })
        : []
    return [...pending, ...expired].map(
      (row) => claimJob(tx).get({ id: row.id, lockedUntil: at + leaseMs, at })!,
    )
  }, IMMEDIATE)
}

// Two index range reads (jobs_due: status, run_at) instead of one OR over the whole table:
// due pending jobs, then running ones whose lease ran out (a dead worker's).
const duePendingJobs = prepared((db) =>
  db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.status, 'pending'),
        lte(jobs.runAt, sql.placeholder('at')),
        eq(jobs.kind, sql.placeholder('kind')),
      ),
    )
    .orderBy(asc(jobs.runAt), asc(jobs.id))
    .limit(sql.placeholder('limit'))
    .prepare(),
)

const expiredJobs = prepared((db) =>
  db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.status, 'running'),
        lte(jobs.lockedUntil, sql.placeholder('at')),
        eq(jobs.kind, sql.placeholder('kind')),
      ),
    )
    .orderBy(asc(jobs.id))
    .limit(sql.placeholder('limit'))
    .prepare(),
)

const claimJob = prepared((db) =>
  db
    .update(jobs)
    .set({
      status: 'running',
      lockedUntil: sql`${sql.placeholder('lockedUntil')}`,
      attempts: sql`${jobs.attempts} + 1`,
      updatedAt: sql`${sql.placeholder('at')}`,
    })
    .where(eq(jobs.id, sql.placeholder('id')))
    .returning({ id: jobs.id, refId: jobs.refId, attempts: jobs.attempts })
    .prepare(),
)

const markJobDone = prepared((db) =>
  db
    .update(jobs)
    .set({
      status: 'done',
      lockedUntil: null,
      lastError: null,
      updatedAt: sql`${sql.placeholder('at')}`,
    })
    .where(eq(jobs.id, sql.placeholder('id')))
    .prepare(),
)

export function completeJob(db: Executor, id: number, now: Date): void {
  markJobDone(db).run({ id, at: now.getTime() })
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
