import type { Sql, SqlValue } from './sql.js'

export type DueJob = { id: number; refId: number; attempts: number }

/** The most jobs one read returns (`dueJobs` asks for fewer by slicing). */
export const DUE_AT_ONCE = 8

// Two index range reads (jobs_due: status, run_at) instead of one OR over the whole table;
// `within`, when given, keeps the jobs whose `ref_id` it lists.
const duePending = (within = '') => `select id, ref_id as "refId", attempts from jobs
  where status = 'pending' and run_at <= ? and kind = ?${within}
  order by run_at, id limit ${DUE_AT_ONCE}`
const expired = (within = '') => `select id, ref_id as "refId", attempts from jobs
  where status = 'running' and locked_until <= ? and kind = ?${within}
  order by id limit ${DUE_AT_ONCE}`
const DUE_PENDING = duePending()
const EXPIRED = expired()

/** Due jobs among some refs only: `ids` a subquery of them, with one placeholder for `value`. */
export type JobRefs = { ids: string; value: SqlValue }

/**
 * Whether `dueJobs` would find any job of `kind` (an expression for a SELECT; binds `now`,
 * `kind` twice): the same two index range reads, each stopping at its first row.
 */
export const ANY_DUE = `exists (select 1 from jobs where status = 'pending' and run_at <= ? and kind = ?)
  or exists (select 1 from jobs where status = 'running' and locked_until <= ? and kind = ?)`

/**
 * Up to `limit` jobs of `kind` (at most `DUE_AT_ONCE`) that are due, oldest first: pending ones
 * whose time came, then any left `running` by a worker whose lease ran out (a hub from before
 * this version).
 *
 * The triage worker reads and finishes them inside one write transaction: no other connection
 * can take them meanwhile, and a crash rolls the whole slice back to where it was, so nothing
 * needs to be marked as taken first.
 */
export async function dueJobs(
  db: Sql,
  kind: string,
  limit: number,
  now: Date,
  refs?: JobRefs,
): Promise<DueJob[]> {
  const within = refs ? ` and ref_id in (${refs.ids})` : ''
  const values = refs ? [now.getTime(), kind, refs.value] : [now.getTime(), kind]
  const due = await db.all<DueJob>(refs ? duePending(within) : DUE_PENDING, values)
  if (due.length < limit)
    due.push(...(await db.all<DueJob>(refs ? expired(within) : EXPIRED, values)))
  return due.length > limit ? due.slice(0, limit) : due
}

export async function completeJob(db: Sql, id: number, now: Date): Promise<void> {
  await db.run(
    `update jobs set status = 'done', locked_until = null, last_error = null, updated_at = ?
      where id = ?`,
    [now.getTime(), id],
  )
}

/**
 * Counts a try that ended in `error` and schedules another at `retryAt`, or marks the job failed
 * for good when it is null.
 */
export async function failJob(
  db: Sql,
  id: number,
  error: string,
  retryAt: Date | null,
  now: Date,
): Promise<void> {
  await db.run(
    `update jobs set status = ?, run_at = coalesce(?, run_at), attempts = attempts + 1,
       locked_until = null, last_error = ?, updated_at = ?
      where id = ?`,
    [
      retryAt ? 'pending' : 'failed',
      retryAt ? retryAt.getTime() : null,
      error.slice(0, 2000),
      now.getTime(),
      id,
    ],
  )
}

/**
 * Jobs of `kind` not yet done (for triage, the retries: `triageBacklog` adds the new messages).
 * Read from the due index (status first), so it costs what is pending, not every job kept since
 * the last retention sweep: by `kind` SQLite would take the unique (kind, ref) index and visit
 * all of them (`+` keeps it off that one; PostgreSQL reads it as the column itself).
 */
export async function pendingJobCount(db: Sql, kind: string): Promise<number> {
  const row = await db.get<{ n: number }>(
    // On SQLite `+kind` keeps the planner on the due index (status, run_at).
    `select count(*) as n from jobs where status in ('pending', 'running')
        and ${db.dialect === 'sqlite' ? '+kind' : 'kind'} = ?`,
    [kind],
  )
  return Number(row?.n ?? 0)
}
