import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { type Executor, fixedLimit, prepared } from './db.js'
import { completeJob, DUE_AT_ONCE, type DueJob, dueJobs, failJob, pendingJobCount } from './jobs.js'
import { channelState, jobs, messages } from './schema.js'

/**
 * The triage queue.
 *
 * A stored message that needs triage (`messages.triage`) is queued by being stored: the queue
 * is the messages table read in id order past a cursor (`channel_state` key `triage:cursor`),
 * which the worker moves in the transaction that records what it triaged. Message ids only
 * grow (AUTOINCREMENT: never reused) and SQLite lets one writer commit at a time, so a message
 * committed after the worker read the queue has a larger id than every message it read: the
 * cursor never skips one. A crash rolls the cursor back with the decisions.
 *
 * A message whose triage fails gets a job row (`jobs`, kind `triage`) with the time of its next
 * try, and the cursor moves past it; due retries are read before new messages. Only a failure
 * writes a row of its own: when every message had a job row, each cost a job insert (a row and
 * two index entries), its update when done (which moved one of them) and a read of the index.
 */
export const TRIAGE_JOB = 'triage'
const CURSOR_KEY = 'triage:cursor'

/** A message to triage: new (past the cursor) or a due retry of one that failed. */
export type QueuedMessage = { messageId: number; retry: DueJob | null }

/** The queue as one transaction of the worker reads and moves it. */
export type TriageQueueSlice = {
  /** Up to `limit` messages (at most `DUE_AT_ONCE`): due retries first, then new ones in order. */
  next(limit: number): QueuedMessage[]
  /** The message was triaged (or needs none): it leaves the queue when the slice commits. */
  done(item: QueuedMessage): void
  /** Its triage failed: try again at `retryAt`, or never when null. */
  failed(item: QueuedMessage, error: string, retryAt: Date | null): void
  /** Writes the cursor; call last, inside the slice's transaction. */
  close(): void
}

/** Opens the queue inside a write transaction (the worker's slice). */
export function triageQueueSlice(db: Executor, now: Date): TriageQueueSlice {
  const at = now.getTime()
  const start = readCursor(db)
  // `handed` is past every new message handed out; `cursor` past every one finished, in order.
  let handed = start
  let cursor = start
  const passed = (item: QueuedMessage) => {
    if (item.retry === null) cursor = Math.max(cursor, item.messageId)
  }
  return {
    next(limit) {
      const retries = dueJobs(db, TRIAGE_JOB, limit, now).map((job) => ({
        messageId: job.refId,
        retry: job,
      }))
      if (retries.length >= limit) return retries
      const fresh = newMessages(db)
        .all({ after: handed })
        .slice(0, limit - retries.length)
        .map((row) => ({ messageId: row.id, retry: null }))
      if (fresh.length > 0) handed = fresh[fresh.length - 1]!.messageId
      return [...retries, ...fresh]
    },
    done(item) {
      if (item.retry) completeJob(db, item.retry.id, now)
      else passed(item)
    },
    failed(item, error, retryAt) {
      if (item.retry) {
        failJob(db, item.retry.id, error, retryAt, now)
        return
      }
      addRetry(db).run({
        refId: item.messageId,
        status: retryAt ? 'pending' : 'failed',
        runAt: retryAt?.getTime() ?? at,
        lastError: error.slice(0, 2000),
        at,
      })
      passed(item)
    },
    close() {
      if (cursor !== start) writeCursor(db).run({ value: String(cursor), at })
    },
  }
}

/**
 * Messages waiting for triage: those past the cursor that need it, and retries not given up.
 * The backlog a hub too far behind turns senders away on: webhooks get 503, SMTP senders 451,
 * and the IMAP poller leaves the mail in the mailbox.
 */
export function triageBacklog(db: Executor): number {
  const row = waitingCount(db).get({ after: readCursor(db) })
  return (row?.n ?? 0) + pendingJobCount(db, TRIAGE_JOB)
}

/** The id of the last message the queue passed. */
export function readCursor(db: Executor): number {
  return Number(cursorQuery(db).get()?.value ?? 0)
}

const cursorQuery = prepared((db) =>
  db
    .select({ value: channelState.value })
    .from(channelState)
    .where(eq(channelState.key, CURSOR_KEY))
    .prepare(),
)

const writeCursor = prepared((db) =>
  db
    .insert(channelState)
    .values({
      key: CURSOR_KEY,
      value: sql.placeholder('value'),
      updatedAt: sql.placeholder('at'),
    })
    .onConflictDoUpdate({
      target: channelState.key,
      set: { value: sql`excluded.value`, updatedAt: sql`excluded.updated_at` },
    })
    .prepare(),
)

// A range of the primary key: costs the messages it returns (and the few not for triage).
const newMessages = prepared((db) =>
  db
    .select({ id: messages.id })
    .from(messages)
    .where(and(gt(messages.id, sql.placeholder('after')), eq(messages.triage, true)))
    .orderBy(asc(messages.id))
    .limit(fixedLimit(DUE_AT_ONCE))
    .prepare(),
)

const waitingCount = prepared((db) =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(messages)
    .where(and(gt(messages.id, sql.placeholder('after')), eq(messages.triage, true)))
    .prepare(),
)

const addRetry = prepared((db) =>
  db
    .insert(jobs)
    .values({
      kind: TRIAGE_JOB,
      refId: sql.placeholder('refId'),
      status: sql.placeholder('status'),
      attempts: 1,
      runAt: sql.placeholder('runAt'),
      lastError: sql.placeholder('lastError'),
      createdAt: sql.placeholder('at'),
      updatedAt: sql.placeholder('at'),
    })
    .onConflictDoNothing()
    .prepare(),
)
