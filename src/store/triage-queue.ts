import {
  ANY_DUE,
  completeJob,
  DUE_AT_ONCE,
  type DueJob,
  dueJobs,
  failJob,
  pendingJobCount,
} from './jobs.js'
import type { Sql } from './sql.js'
import { readAhead, type UndecidedMessage } from './triage-store.js'

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

/**
 * A message to triage: new (past the cursor) or a due retry of one that failed. On PostgreSQL
 * new ones come with their first read (`readAhead`): `found`, unless a retry came before them.
 */
export type QueuedMessage = {
  messageId: number
  retry: DueJob | null
  found?: UndecidedMessage | null
}

/** The queue as one transaction of the worker reads and moves it. */
export type TriageQueueSlice = {
  /** The cursor as the slice found it: every message up to it has left the queue. */
  readonly start: number
  /** The cursor as the slice moves it (written by `close`). */
  readonly cursor: number
  /**
   * Up to `limit` messages (at most `DUE_AT_ONCE`): retries due when the slice began first,
   * then new ones in order.
   */
  next(limit: number): Promise<QueuedMessage[]>
  /** The message was triaged (or needs none): it leaves the queue when the slice commits. */
  done(item: QueuedMessage): Promise<void>
  /** Its triage failed: try again at `retryAt`, or never when null. */
  failed(item: QueuedMessage, error: string, retryAt: Date | null): Promise<void>
  /** Writes the cursor; call last, inside the slice's transaction. */
  close(): Promise<void>
}

/** Opens the queue inside a write transaction (the worker's slice). */
export async function triageQueueSlice(db: Sql, now: Date): Promise<TriageQueueSlice> {
  const at = now.getTime()
  // The cursor, and whether any retry is due, in one read: retries are rare (only failures
  // have them), and a slice that finds none due reads only new messages.
  const opened = await db.get<{ cursor: string | null; retries: unknown }>(OPENING, [
    CURSOR_KEY,
    at,
    TRIAGE_JOB,
    at,
    TRIAGE_JOB,
  ])
  const start = Number(opened?.cursor ?? 0)
  // `handed` is past every new message handed out; `cursor` past every one finished, in order.
  let handed = start
  let cursor = start
  const passed = (item: QueuedMessage) => {
    if (item.retry === null) cursor = Math.max(cursor, item.messageId)
  }
  // Retries are read until none is left due; a slice reads them again only if it handed out as
  // many as it asked for.
  let retriesLeft = Boolean(opened?.retries)
  return {
    start,
    get cursor() {
      return cursor
    },
    async next(limit) {
      const retries = retriesLeft
        ? (await dueJobs(db, TRIAGE_JOB, limit, now)).map((job) => ({
            messageId: job.refId,
            retry: job,
          }))
        : []
      if (retries.length < limit) retriesLeft = false
      if (retries.length >= limit) return retries
      // On PostgreSQL each statement is a round trip: the new messages come with their first
      // read. (SQLite's statements are calls, and its slices are short: a read ahead would
      // often be read again by the next slice.)
      const fresh: QueuedMessage[] =
        db.dialect === 'postgres' && retries.length === 0
          ? (await readAhead(db, handed, limit)).map((read) => ({ ...read, retry: null }))
          : (await db.all<{ id: number }>(NEW_MESSAGES, [handed, true]))
              .slice(0, limit - retries.length)
              .map((row) => ({ messageId: row.id, retry: null }))
      if (fresh.length > 0) handed = fresh[fresh.length - 1]!.messageId
      return [...retries, ...fresh]
    },
    async done(item) {
      if (item.retry) await completeJob(db, item.retry.id, now)
      else passed(item)
    },
    async failed(item, error, retryAt) {
      if (item.retry) {
        await failJob(db, item.retry.id, error, retryAt, now)
        return
      }
      await db.run(
        `insert into jobs (kind, ref_id, status, attempts, run_at, last_error, created_at, updated_at)
         values (?, ?, ?, 1, ?, ?, ?, ?) on conflict do nothing`,
        [
          TRIAGE_JOB,
          item.messageId,
          retryAt ? 'pending' : 'failed',
          retryAt?.getTime() ?? at,
          error.slice(0, 2000),
          at,
          at,
        ],
      )
      passed(item)
    },
    async close() {
      if (cursor !== start)
        await db.run(
          `insert into channel_state (key, value, updated_at) values (?, ?, ?)
           on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
          [CURSOR_KEY, String(cursor), at],
        )
    },
  }
}

const OPENING = `select (select value from channel_state where key = ?) as cursor,
  ${ANY_DUE} as retries`

// A range of the primary key: costs the messages it returns (and the few not for triage).
const NEW_MESSAGES = `select id from messages where id > ? and triage = ? order by id limit ${DUE_AT_ONCE}`

/**
 * Messages waiting for triage: those past the cursor that need it, and retries not given up.
 * The backlog a hub too far behind turns senders away on: webhooks get 503, SMTP senders 451,
 * and the IMAP poller leaves the mail in the mailbox.
 */
export async function triageBacklog(db: Sql): Promise<number> {
  const row = await db.get<{ n: number }>(
    'select count(*) as n from messages where id > ? and triage = ?',
    [await readCursor(db), true],
  )
  return Number(row?.n ?? 0) + (await pendingJobCount(db, TRIAGE_JOB))
}

/** The id of the last message the queue passed. */
export async function readCursor(db: Sql): Promise<number> {
  const row = await db.get<{ value: string }>('select value from channel_state where key = ?', [
    CURSOR_KEY,
  ])
  return Number(row?.value ?? 0)
}
