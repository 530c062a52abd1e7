import {
  ANY_DUE,
  completeJob,
  DUE_AT_ONCE,
  type DueJob,
  dueJobs,
  failJob,
  pendingJobCount,
} from './jobs.js'
import { turnKey } from './one-at-a-time.js'
import type { ReplyWindows } from './reply-caps-store.js'
import type { Sql, Statement } from './sql.js'
import { IN_PART, PART_ORDER, partPast, TRIAGE_PARTS } from './triage-parts.js'
import {
  type ReadAhead,
  readAhead,
  readAheadOfClaim,
  readAheadRows,
  type UndecidedMessage,
} from './triage-reads.js'

/**
 * The triage queue.
 *
 * A stored message that needs triage (`messages.triage`) is queued by being stored: the queue
 * is the messages table read in id order past a cursor (`channel_state` key `triage:cursor`),
 * which the worker moves in the transaction that records what it triaged. Message ids only
 * grow (AUTOINCREMENT: never reused) and SQLite lets one writer commit at a time, so a message
 * committed after the worker read the queue has a larger id than every message it read: the
 * cursor never skips one. A crash rolls the cursor back with the decisions. (On PostgreSQL
 * stores take turns for the same reason: `storingMessages`.)
 *
 * On PostgreSQL the queue is in parts (`TRIAGE_PARTS`): a message belongs to part
 * `conversation_id % 8`, and each part has a cursor of its own (`triage:cursor:N`, starting
 * where the one cursor of an older version stood). A slice claims one part with an advisory
 * lock (`claimTriagePart`), so slices of different parts, on one instance or several, triage
 * side by side, and a conversation's messages are still triaged one after another, in order.
 *
 * A message whose triage fails gets a job row (`jobs`, kind `triage`) with the time of its next
 * try, and the cursor moves past it; due retries are read before new messages. Only a failure
 * writes a row of its own: when every message had a job row, each cost a job insert (a row and
 * two index entries), its update when done (which moved one of them) and a read of the index.
 */
export const TRIAGE_JOB = 'triage'
const CURSOR_KEY = 'triage:cursor'
const MESSAGES_IN_PART = `select id from messages where ${IN_PART}`

/**
 * A part of the queue claimed by a slice: where its cursor stood, whether retries are due, and
 * unless they are, the part's first new messages, read with the claim (`readAhead`).
 */
export type ClaimedPart = { part: number; cursor: number; retries: boolean; read?: ReadAhead[] }

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
  /**
   * Whether `next` would find nothing without asking the database: no retry left to read, and
   * a read of new messages came back short.
   */
  readonly exhausted: boolean
  /** The write of the moved cursor, if it moved: to run last, inside the slice's transaction. */
  closing(): Statement | null
  /** Writes the cursor (`closing`); call last, inside the slice's transaction. */
  close(): Promise<void>
}

/**
 * Opens the queue inside a write transaction (the worker's slice): the whole queue (SQLite), or
 * the part the slice claimed (PostgreSQL: `claimTriagePart`). Given `replies`, PostgreSQL's
 * reads of new messages also count what the reply caps count over those windows.
 */
export async function triageQueueSlice(
  db: Sql,
  now: Date,
  claimed?: ClaimedPart,
  replies?: ReplyWindows,
): Promise<TriageQueueSlice> {
  const at = now.getTime()
  if (!claimed && db.dialect === 'postgres')
    throw new Error("PostgreSQL's triage queue is read a part at a time (claimTriagePart)")
  // The cursor, and whether any retry is due, in one read: retries are rare (only failures
  // have them), and a slice that finds none due reads only new messages.
  const opened =
    claimed ??
    (await db.get<{ cursor: string | null; retries: unknown }>(OPENING, [
      CURSOR_KEY,
      at,
      TRIAGE_JOB,
      at,
      TRIAGE_JOB,
    ]))
  const part = claimed?.part ?? null
  const refs = part === null ? undefined : { ids: MESSAGES_IN_PART, value: part }
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
  // A read of new messages that found fewer than it asked for emptied the queue (or the part),
  // as far as the slice can tell: it reads no more (a statement that would find nothing; on
  // PostgreSQL, a round trip). On SQLite nothing is stored while the slice holds the database;
  // on PostgreSQL a message stored meanwhile wakes the workers, and a later slice reads it.
  let drained = false
  // The part's first read, made by the claim: the slice's first read of new messages.
  let claimedRead = claimed?.read
  const readNew = async (limit: number) => {
    const read = claimedRead?.slice(0, limit) ?? (await readAhead(db, handed, limit, part, replies))
    claimedRead = undefined
    return read
  }
  // Whether the slice finished a message: it then writes the cursor even where it stayed (only
  // retries were done), so that a new version of the cursor's row marks every slice that wrote
  // to the part (`claimTriagePart`).
  let finished = false
  const closing = (): Statement | null =>
    cursor === start && !finished
      ? null
      : {
          text: `insert into channel_state (key, value, updated_at) values (?, ?, ?)
           on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
          params: [part === null ? CURSOR_KEY : `${CURSOR_KEY}:${part}`, String(cursor), at],
        }
  return {
    start,
    get cursor() {
      return cursor
    },
    async next(limit) {
      const retries = retriesLeft
        ? (await dueJobs(db, TRIAGE_JOB, limit, now, refs)).map((job) => ({
            messageId: job.refId,
            retry: job,
          }))
        : []
      if (retries.length < limit) retriesLeft = false
      if (retries.length >= limit || drained) return retries
      // On PostgreSQL each statement is a round trip: the new messages come with their first
      // read. (SQLite's statements are calls, and its slices are short: a read ahead would
      // often be read again by the next slice.)
      const fresh: QueuedMessage[] =
        db.dialect === 'postgres' && retries.length === 0
          ? (await readNew(limit)).map((read) => ({
              ...read,
              retry: null,
            }))
          : (await newMessages(db, handed, part))
              .slice(0, limit - retries.length)
              .map((row) => ({ messageId: row.id, retry: null }))
      if (fresh.length > 0) handed = fresh[fresh.length - 1]!.messageId
      if (fresh.length < limit - retries.length) drained = true
      return [...retries, ...fresh]
    },
    async done(item) {
      finished = true
      if (item.retry) await completeJob(db, item.retry.id, now)
      else passed(item)
    },
    async failed(item, error, retryAt) {
      finished = true
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
    get exhausted() {
      return drained && !retriesLeft
    },
    closing,
    async close() {
      const write = closing()
      if (write) await db.run(write.text, write.params)
    },
  }
}

const OPENING = `select (select value from channel_state where key = ?) as cursor,
  ${ANY_DUE} as retries`

// A range of the primary key (or of a part's index): costs the messages it returns (and the
// few not for triage).
const NEW_MESSAGES = `select id from messages where id > ? and triage = ? order by id limit ${DUE_AT_ONCE}`
const NEW_IN_PART = `select id from messages where ${partPast('?', '?')} and triage = ?
  order by ${PART_ORDER} limit ${DUE_AT_ONCE}`

const newMessages = (db: Sql, after: number, part: number | null) =>
  part === null
    ? db.all<{ id: number }>(NEW_MESSAGES, [after, true])
    : db.all<{ id: number }>(NEW_IN_PART, [part, after, part, true])

/**
 * Each part's cursor (PostgreSQL), the parts in turn from `?`: a part without a cursor of its
 * own starts where the one cursor of an older version stood.
 */
const PART_CURSORS = `select n, cast(coalesce(
      (select value from channel_state where key = '${CURSOR_KEY}:' || n),
      (select value from channel_state where key = '${CURSOR_KEY}'), '0') as bigint) as cursor
  from (select (i + ?) % ${TRIAGE_PARTS} as n
          from generate_series(0, ${TRIAGE_PARTS - 1}) as i) as parts`

// Not an `exists`, whose order PostgreSQL drops: the first message past the cursor in the
// index's order, one seek (`partPast`).
const PART_HAS_NEW = `(select id from messages where ${partPast('n', 'cursor')} and triage = 1
  order by ${PART_ORDER} limit 1) is not null`
const PART_HAS_RETRIES = `exists (select 1 from jobs
  where kind = '${TRIAGE_JOB}'
    and ((status = 'pending' and run_at <= ?) or (status = 'running' and locked_until <= ?))
    and ref_id in (select id from messages where (conversation_id % ${TRIAGE_PARTS}) = n))`

// The first part in turn with work that no other slice holds. The part's lock is tried last,
// and only for a part with work (CASE evaluates in order), on one row at a time (no sort: the
// rows come in turn), so a claim takes one lock at most. The shared lock on the one queue of
// an older version keeps such an instance, while instances are upgraded one by one, from
// triaging beside this one (it takes that lock alone).
const CLAIM = `select n as part, cursor, version, retries from (
    select n, cursor, ${PART_HAS_RETRIES} as retries,
           (select xmin from channel_state where key = '${CURSOR_KEY}:' || n) as version
      from (${PART_CURSORS}) as cursors
  ) as parts
  where case when (retries or ${PART_HAS_NEW})
               and pg_try_advisory_xact_lock_shared(cast(${turnKey('triage')} as bigint))
             then pg_try_advisory_xact_lock(${turnKey('triage')}, n)
             else false end
  limit 1`

/**
 * Claims a part of the queue (PostgreSQL) for the transaction `tx`: the first part from `from`
 * on, in turn, with messages or retries to triage that no other slice holds. Null when none.
 * Unless retries are due there, the same statement reads the part's first new messages (with
 * what the reply caps count, given `replies`): where a slice's statements are round trips,
 * most slices claim a part and read all it has in one.
 */
export async function claimTriagePart(
  tx: Sql,
  now: Date,
  from: number,
  replies?: ReplyWindows,
): Promise<ClaimedPart | null> {
  const at = now.getTime()
  const read = readAheadOfClaim(replies)
  // The statement reads as it began, and takes the part's lock after: a slice that committed
  // the part in between (and let go of it) moved the part's cursor past messages the statement
  // still sees as new, and wrote what their triage changed. Its cursor's version, read again
  // once the lock is held (by a volatile function: a snapshot of its own), tells; the claim
  // then reads nothing and runs again, seeing that slice, which no other can now follow.
  const rows = await tx.values(
    `with claimed as materialized (
       select part, cursor, retries,
              version is not distinct from centralita_row_version('${CURSOR_KEY}:' || part) as fresh
         from (${CLAIM}) as claim)
     select claimed.part, claimed.cursor, claimed.retries, claimed.fresh, read.*
       from claimed left join lateral (${read.sql}) as read on true
      order by 5`,
    [at, at, from % TRIAGE_PARTS, ...read.values],
  )
  const [first] = rows
  if (!first) return null
  const claimed = { part: Number(first[0]), cursor: Number(first[1]), retries: Boolean(first[2]) }
  // Claimed again from the same part: held now, it is read as it stands (and if it has no
  // work left, another part is claimed, at worst each part once).
  if (!first[3]) return claimTriagePart(tx, now, claimed.part, replies)
  if (claimed.retries) return claimed
  // A part with work whose read found nothing new (the claim saw a message the read did not
  // take: one not for triage, say) comes back as one row of nulls.
  const found = first[4] === null ? [] : rows
  return { ...claimed, read: readAheadRows(found, DUE_AT_ONCE, replies, 4) }
}

/**
 * Messages waiting for triage: those past the cursor that need it, and retries not given up.
 * The backlog a hub too far behind turns senders away on: webhooks get 503, SMTP senders 451,
 * and the IMAP poller leaves the mail in the mailbox.
 */
export async function triageBacklog(db: Sql): Promise<number> {
  if (db.dialect === 'postgres') {
    // Each part's range of the index on (part, id) past its cursor: the backlog itself. (One
    // range of the primary key from the part furthest behind read, for a part idle for long,
    // every message stored since.)
    const parts = await db.get<{ n: number }>(
      `select coalesce(sum(k.n), 0) as n from (${PART_CURSORS}) as c
         cross join lateral (select count(*) as n from messages m
           where ${partPast('c.n', 'c.cursor')} and m.triage = 1) as k`,
      [0],
    )
    return Number(parts?.n ?? 0) + (await pendingJobCount(db, TRIAGE_JOB))
  }
  const row = await db.get<{ n: number }>(
    'select count(*) as n from messages where id > ? and triage = ?',
    [await readCursor(db), true],
  )
  return Number(row?.n ?? 0) + (await pendingJobCount(db, TRIAGE_JOB))
}

/** The id of the last message the queue passed (SQLite: its one cursor). */
export async function readCursor(db: Sql): Promise<number> {
  const row = await db.get<{ value: string }>('select value from channel_state where key = ?', [
    CURSOR_KEY,
  ])
  return Number(row?.value ?? 0)
}
