import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import { type Executor, fixedLimit, prepared } from './db.js'
import { jobs } from './schema.js'

export type DueJob = { id: number; refId: number; attempts: number }

/**
 * Up to `limit` jobs of `kind` (at most `DUE_AT_ONCE`) that are due, oldest first: pending ones
 * whose time came, then any left `running` by a worker whose lease ran out (a hub from before
 * this version).
 *
 * The triage worker reads and finishes them inside one IMMEDIATE transaction: no other
 * connection can take them meanwhile, and a crash rolls the whole slice back to where it was,
 * so nothing needs to be marked as taken first.
 */
export function dueJobs(db: Executor, kind: string, limit: number, now: Date): DueJob[] {
  const values = { kind, at: now.getTime() }
  const due = duePendingJobs(db).all(values)
  if (due.length < limit) due.push(...expiredJobs(db).all(values))
  return due.length > limit ? due.slice(0, limit) : due
}

/** The most jobs one read returns (`dueJobs` asks for fewer by slicing). */
export const DUE_AT_ONCE = 8

const due = { id: jobs.id, refId: jobs.refId, attempts: jobs.attempts }

// Two index range reads (jobs_due: status, run_at) instead of one OR over the whole table.
const duePendingJobs = prepared((db) =>
  db
    .select(due)
    .from(jobs)
    .where(
      and(
        eq(jobs.status, 'pending'),
        lte(jobs.runAt, sql.placeholder('at')),
        eq(jobs.kind, sql.placeholder('kind')),
      ),
    )
    .orderBy(asc(jobs.runAt), asc(jobs.id))
    .limit(fixedLimit(DUE_AT_ONCE))
    .prepare(),
)

const expiredJobs = prepared((db) =>
  db
    .select(due)
    .from(jobs)
    .where(
      and(
        eq(jobs.status, 'running'),
        lte(jobs.lockedUntil, sql.placeholder('at')),
        eq(jobs.kind, sql.placeholder('kind')),
      ),
    )
    .orderBy(asc(jobs.id))
    .limit(fixedLimit(DUE_AT_ONCE))
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

/**
 * Counts a try that ended in `error` and schedules another at `retryAt`, or marks the job failed
 * for good when it is null.
 */
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
      attempts: sql`${jobs.attempts} + 1`,
      lockedUntil: null,
      lastError: error.slice(0, 2000),
      updatedAt: now.getTime(),
    })
    .where(eq(jobs.id, id))
    .run()
}

/**
 * Jobs of `kind` not yet done (for triage, the retries: `triageBacklog` adds the new messages).
 * Read from the due index (status first), so it costs what is pending, not every job kept since
 * the last retention sweep: by `kind` SQLite would take the unique (kind, ref) index and visit
 * all of them (`+` keeps it off that one).
 */
export function pendingJobCount(db: Executor, kind: string): number {
  const row = pendingCountQuery(db).get({ kind })
  return row?.n ?? 0
}

const pendingCountQuery = prepared((db) =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(jobs)
    .where(
      and(
        inArray(jobs.status, ['pending', 'running']),
        sql`+${jobs.kind} = ${sql.placeholder('kind')}`,
      ),
    )
    .prepare(),
)
