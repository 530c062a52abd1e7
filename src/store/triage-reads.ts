import { PRIORITIES, type Priority } from '../triage/rulebook/schema.js'
import { DUE_AT_ONCE } from './jobs.js'
import {
  type AutomaticRepliesAhead,
  REPLIES_AHEAD,
  type ReplyWindows,
  readRepliesAhead,
  repliesAheadValues,
} from './reply-caps-store.js'
import { contactRows, conversationRows, messageRows, ticketRows } from './rows.js'
import type { Sql, SqlValue } from './sql.js'
import type { TicketRow } from './ticket-store.js'
import { PART_ORDER, partPast } from './triage-parts.js'
import { readSubject, type TriageSubject } from './triage-store.js'

// The triage's first read of a message to triage: its subject (message, conversation,
// contact) with the case open in its conversation, one message at a time (`loadUndecided`) or
// a read of the queue's next messages at once (`readAhead`, PostgreSQL), which may count what
// the reply caps count too.

/**
 * The case a message to triage finds open in its conversation: the open ticket, and the most
 * urgent priority the conversation's messages were decided at since the ticket opened, when
 * one was more urgent than the ticket's.
 */
export type OpenCaseFound = { ticket: TicketRow; moreUrgent: Priority | null }

/**
 * A message to triage as its first read finds it: the subject and the open case, if any; and
 * when the read was a read-ahead given the reply caps' windows, what the caps count.
 */
export type UndecidedMessage = {
  subject: TriageSubject
  openCase: OpenCaseFound | null
  replies?: AutomaticRepliesAhead
}

// Probes the conversation-priority index for each priority more urgent than the ticket's, most
// urgent first, and stops at the first found: it reads no decision rows, however long the case
// has run. Each priority is written out, not bound, so that every probe is a seek of the index
// on (conversation_id, priority, created_at).
const MORE_URGENT = `case when t.id is null then null ${PRIORITIES.map(
  (priority, at) =>
    `when t.priority not in (${PRIORITIES.slice(0, at + 1)
      .map((p) => `'${p}'`)
      .join(', ')}) and exists (select 1 from triage_decisions u
       where u.conversation_id = c.id and u.priority = '${priority}'
         and u.created_at >= t.created_at) then '${priority}'`,
).join(' ')} end`

// The triage's first read: the subject with its conversation's open ticket (abierto or en
// proceso: one at most).
const CASE_COLUMNS = `${messageRows.columns('m')}, ${conversationRows.columns('c')},
         ${contactRows.columns('k')}, ${ticketRows.columns('t')}, ${MORE_URGENT}`
// A read of several messages (PostgreSQL's read-ahead) seeks each one's conversation and
// contact by primary key, in lateral subqueries with a limit so the plan cannot be another:
// as plain joins, while those tables are small, the planner reads and hashes all of each
// (see `byKey`). SQLite, which has no lateral joins, seeks them anyway.
const caseFrom = (messages: string, seek = false) => `from ${messages} m
    ${
      seek
        ? `cross join lateral (select * from conversations c where c.id = m.conversation_id limit 1) c
    cross join lateral (select * from contacts k where k.id = m.contact_id limit 1) k`
        : `join conversations c on c.id = m.conversation_id
    join contacts k on k.id = m.contact_id`
    }
    left join tickets t on t.conversation_id = c.id and t.status in ('abierto', 'en_proceso')`

// One message, unless it has a decision already.
const UNDECIDED = `select ${CASE_COLUMNS} ${caseFrom('messages')}
   where m.id = ?
     and not exists (select 1 from triage_decisions d where d.message_id = m.id)`

/** The message to triage in its context, unless it has a decision already. */
export async function loadUndecided(db: Sql, messageId: number): Promise<UndecidedMessage | null> {
  const [row] = await db.values(UNDECIDED, [messageId])
  return row ? readUndecided(row) : null
}

/**
 * A message of the triage queue with its first read done as the queue was read: what
 * `loadUndecided` returned then (null: it has a decision already).
 */
export type ReadAhead = { messageId: number; found: UndecidedMessage | null }

// The queue's next messages (past the cursor) with each one's first read. The messages are
// picked first, then joined: a young table's statistics say it is tiny, and a plan made then
// (a prepared statement keeps it) scans and sorts it, and would join every message past the
// cursor before it took eight. Whether a message was decided is a scalar subquery, an index
// seek a message: as an `exists`, the planner may hash every decision there is instead.
const queued = (where: string, replies: boolean, order = 'id') => `select ${CASE_COLUMNS},
         (select d.id from triage_decisions d where d.message_id = m.id) as decided
         ${replies ? `, ${REPLIES_AHEAD}` : ''}
    ${caseFrom(`(select * from messages where ${where} and triage = ? order by ${order} limit ${DUE_AT_ONCE})`, true)}
   order by m.id`
// A part of the queue (`triage-queue.ts`): the expression of the index messages_triage_part.
const IN_ONE_PART = partPast('?', '?')
const QUEUED = [queued('id > ?', false), queued('id > ?', true)] as const
const QUEUED_IN_PART = [
  queued(IN_ONE_PART, false, PART_ORDER),
  queued(IN_ONE_PART, true, PART_ORDER),
] as const

/**
 * The read-ahead of the part a claim holds, as a lateral subquery of the claim (`claimed`, with
 * its `part`, `cursor`, `retries` and `fresh`: none read when retries are due, which come
 * first, or when another slice committed the part while the claim's statement ran), with
 * the values of its placeholders: one statement claims a part and reads it.
 */
export function readAheadOfClaim(replies?: ReplyWindows): { sql: string; values: SqlValue[] } {
  return {
    sql: queued(
      `${partPast('claimed.part', 'claimed.cursor')} and not claimed.retries and claimed.fresh`,
      replies !== undefined,
      PART_ORDER,
    ),
    values: [...(replies ? repliesAheadValues(replies) : []), true],
  }
}

/**
 * Up to `limit` messages queued for triage past `after`, in order, each with its first read:
 * one statement for them all, where reading each on its own takes a statement a message.
 * Whoever triages them one after another must read again a message whose conversation or
 * contact an earlier one of the same read changed (`stillFresh`). Given `replies`, the read
 * also counts what the reply caps count over those windows, for every message.
 */
export async function readAhead(
  db: Sql,
  after: number,
  limit: number,
  part: number | null = null,
  replies?: ReplyWindows,
): Promise<ReadAhead[]> {
  const which = replies ? 1 : 0
  const counting = replies ? repliesAheadValues(replies) : []
  const rows =
    part === null
      ? await db.values(QUEUED[which], [...counting, after, true])
      : await db.values(QUEUED_IN_PART[which], [...counting, part, after, part, true])
  return readAheadRows(rows, limit, replies)
}

/** The messages of a read-ahead's rows (from `at` on in each row), up to `limit`. */
export function readAheadRows(
  rows: readonly (readonly unknown[])[],
  limit: number,
  replies?: ReplyWindows,
  at = 0,
): ReadAhead[] {
  const width = messageRows.width + conversationRows.width + contactRows.width
  const decided = at + width + ticketRows.width + 1
  const read: ReadAhead[] = []
  for (const row of rows.slice(0, limit)) {
    const found = readUndecided(at === 0 ? row : row.slice(at))
    if (replies) found.replies = readRepliesAhead(row, decided + 1, replies)
    const messageId = found.subject.message.id
    // A conversation has one open ticket at most; were there two, the first row stands.
    if (read.at(-1)?.messageId === messageId) continue
    read.push({ messageId, found: row[decided] ? null : found })
  }
  return read
}

/**
 * Whether the first reads of a read-ahead still hold for `next`, when `before` (the messages
 * of the same read triaged before it) are done: none of them shares its conversation or its
 * contact, whose rows, ticket and decisions its read holds, or the recipient whose automatic
 * replies it counted.
 */
export function stillFresh(next: UndecidedMessage, before: readonly UndecidedMessage[]): boolean {
  const { conversation, contact } = next.subject
  return before.every(
    ({ subject, replies }) =>
      subject.conversation.id !== conversation.id &&
      subject.contact.id !== contact.id &&
      // The caps count what went to a recipient, whose address two contacts may share.
      (replies === undefined || replies.recipient !== next.replies?.recipient),
  )
}

function readUndecided(row: readonly unknown[]): UndecidedMessage {
  const at = messageRows.width + conversationRows.width + contactRows.width
  const ticket = row[at] === null ? null : ticketRows.readValues(row, at)
  return {
    subject: readSubject(row),
    openCase: ticket
      ? { ticket, moreUrgent: (row[at + ticketRows.width] as Priority | null) ?? null }
      : null,
  }
}
