import { PRIORITIES, type Priority } from '../triage/rulebook/schema.js'
import type { Decision } from '../triage/triage.js'
import { DUE_AT_ONCE } from './jobs.js'
import {
  type AutomaticRepliesAhead,
  REPLIES_AHEAD,
  type ReplyWindows,
  readRepliesAhead,
  repliesAheadValues,
} from './reply-caps-store.js'
import { contactRows, conversationRows, messageRows, ticketRows } from './rows.js'
import type * as schema from './schema.js'
import { list, type Sql, type SqlValue } from './sql.js'
import type { TicketRow } from './ticket-store.js'
import { IN_PART, TRIAGE_PARTS } from './triage-parts.js'

export type MessageRow = typeof schema.messages.$inferSelect
export type ConversationRow = typeof schema.conversations.$inferSelect
export type ContactRow = typeof schema.contacts.$inferSelect

/** A message with its conversation and contact, JSON columns parsed. */
export type TriageSubject = {
  message: Omit<MessageRow, 'meta'> & { meta: Record<string, unknown> }
  conversation: Omit<ConversationRow, 'meta'> & { meta: Record<string, unknown> }
  contact: ContactRow
}

function parseObject(json: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json)
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
  } catch {
    return {}
  }
}

const SUBJECT = `select ${messageRows.columns('m')}, ${conversationRows.columns('c')},
         ${contactRows.columns('k')}
    from messages m
    join conversations c on c.id = m.conversation_id
    join contacts k on k.id = m.contact_id
   where m.id = ?`

/** The message, its conversation and its contact, as triage and planning read them. */
export async function loadTriageSubject(db: Sql, messageId: number): Promise<TriageSubject | null> {
  const [row] = await db.values(SUBJECT, [messageId])
  return row ? readSubject(row) : null
}

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
const caseFrom = (messages: string) => `from ${messages} m
    join conversations c on c.id = m.conversation_id
    join contacts k on k.id = m.contact_id
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
const queued = (where: string, replies: boolean) => `select ${CASE_COLUMNS},
         (select d.id from triage_decisions d where d.message_id = m.id) as decided
         ${replies ? `, ${REPLIES_AHEAD}` : ''}
    ${caseFrom(`(select * from messages where ${where} and triage = ? order by id limit ${DUE_AT_ONCE})`)}
   order by m.id`
// A part of the queue (`triage-queue.ts`): the expression of the index messages_triage_part.
const IN_ONE_PART = `${IN_PART} and id > ?`
const QUEUED = [queued('id > ?', false), queued('id > ?', true)] as const
const QUEUED_IN_PART = [queued(IN_ONE_PART, false), queued(IN_ONE_PART, true)] as const

/**
 * The read-ahead of the part a claim holds, as a lateral subquery of the claim (`claimed`, with
 * its `part`, `cursor` and `retries`: none read when retries are due, which come first), with
 * the values of its placeholders: one statement claims a part and reads it.
 */
export function readAheadOfClaim(replies?: ReplyWindows): { sql: string; values: SqlValue[] } {
  return {
    sql: queued(
      `(conversation_id % ${TRIAGE_PARTS}) = claimed.part and id > claimed.cursor and not claimed.retries`,
      replies !== undefined,
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
      : await db.values(QUEUED_IN_PART[which], [...counting, part, after, true])
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

// Read once per triaged message: one row of values, not three tables' named columns.
function readSubject(row: readonly unknown[]): TriageSubject {
  const message = messageRows.readValues(row)
  const conversation = conversationRows.readValues(row, messageRows.width)
  return {
    message: { ...message, meta: parseObject(message.meta) },
    conversation: { ...conversation, meta: parseObject(conversation.meta) },
    contact: contactRows.readValues(row, messageRows.width + conversationRows.width),
  }
}

/**
 * Complaints the same person made since `since`, on any channel: the same contact, or any
 * contact with the same email address or phone number.
 */
export async function countRecentComplaints(
  db: Sql,
  contact: ContactRow,
  since: number,
): Promise<number> {
  // The person's contacts first (indexed by email and phone), then their messages' decisions.
  // The intents are written out, not bound: the partial index triage_decisions_complaints has
  // this very condition, and SQLite uses such an index only when the query's term matches.
  const row = await db.get<{ n: number }>(
    `select count(*) as n from messages m
       join triage_decisions d on d.message_id = m.id
      where m.contact_id in (select id from contacts where id = ? or email = ? or phone = ?)
        and d.intent in ('complaint', 'legal') and d.created_at >= ?`,
    // A missing email or phone matches nobody (`= NULL` is never true).
    [contact.id, contact.email || null, contact.phone || null, since],
  )
  return Number(row?.n ?? 0)
}

/**
 * Next readable ticket number for the year: TK-2026-000123. The counter commits on its own
 * (`autonomous`): on PostgreSQL slices of the triage queue's parts run side by side, and one
 * that opened a ticket would otherwise hold the others' tickets until it commits. A slice
 * that rolls back leaves its numbers unused there (the one after is one higher).
 */
export async function nextTicketNumber(db: Sql, year: number, at: number): Promise<string> {
  const row = await db.autonomous().get<{ value: string }>(
    `insert into channel_state (key, value, updated_at) values (?, '1', ?)
     on conflict (key) do update set value = cast(cast(channel_state.value as integer) + 1 as text),
       updated_at = excluded.updated_at
     returning value`,
    [`ticket_seq:${year}`, at],
  )
  return `TK-${year}-${String(row!.value).padStart(6, '0')}`
}

export type NewTicket = {
  conversationId: number
  messageId: number
  type: string
  priority: string
  queue: string
  level: string | null
  assignee: string | null
  firstResponseDueAt: number | null
  resolutionDueAt: number | null
}

/** Opens a ticket, or returns the open one of the conversation (one open ticket per thread). */
export async function openTicket(
  db: Sql,
  ticket: NewTicket,
  now: Date,
): Promise<{ id: number; number: string; created: boolean }> {
  const open = await openTicketOfConversation(db, ticket.conversationId)
  if (open) return { id: open.id, number: open.number, created: false }
  const at = now.getTime()
  const number = await nextTicketNumber(db, now.getUTCFullYear(), at)
  const row = await db.get<{ id: number }>(
    `insert into tickets (conversation_id, message_id, type, priority, queue, level, assignee,
       first_response_due_at, resolution_due_at, number, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    [
      ticket.conversationId,
      ticket.messageId,
      ticket.type,
      ticket.priority,
      ticket.queue,
      ticket.level,
      ticket.assignee,
      ticket.firstResponseDueAt,
      ticket.resolutionDueAt,
      number,
      at,
      at,
    ],
  )
  return { id: row!.id, number, created: true }
}

/** The conversation's open ticket (abierto or en proceso), if it has one. */
export async function openTicketOfConversation(
  db: Sql,
  conversationId: number,
): Promise<TicketRow | undefined> {
  const row = await db.get(
    `select ${ticketRows.select('t')} from tickets t
      where t.conversation_id = ? and t.status in ('abierto', 'en_proceso')`,
    [conversationId],
  )
  return row ? ticketRows.read(row) : undefined
}

/** A decision as it is recorded: for its message, in its conversation. */
export type DecisionRecord = {
  messageId: number
  conversationId: number
  decision: Decision
  rulebookVersion: string
  now: Date
}

const DECISION_COLUMNS = `message_id, conversation_id, intent, confidence, priority, level,
  signals, amount, language, queue, needs_human, actions, reply_kind, explanation,
  rulebook_version, created_at`

const DECISION_WIDTH = DECISION_COLUMNS.split(',').length

function decisionValues({
  messageId,
  conversationId,
  decision,
  rulebookVersion,
  now,
}: DecisionRecord) {
  return [
    messageId,
    conversationId,
    decision.intent,
    decision.confidence,
    decision.priority,
    decision.level,
    JSON.stringify(decision.signals),
    decision.amount,
    decision.language,
    decision.queue,
    decision.needsHuman ? 1 : 0,
    JSON.stringify({ ticket: decision.ticket, reply: decision.reply }),
    decision.reply?.kind ?? null,
    JSON.stringify(decision.explanation),
    rulebookVersion,
    now.getTime(),
  ]
}

export async function insertDecision(
  db: Sql,
  subject: { messageId: number; conversationId: number },
  decision: Decision,
  rulebookVersion: string,
  now: Date,
): Promise<number> {
  const row = await db.get<{ id: number }>(
    `insert into triage_decisions (${DECISION_COLUMNS})
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    decisionValues({ ...subject, decision, rulebookVersion, now }),
  )
  return row!.id
}

// Several decisions in one statement, a row of placeholders each: as plain values, not
// arrays, whose text elements (a decision's explanation is JSON) the driver would escape.
// A slice holds a read's worth at most, so these are a few shapes of statement.
const insertDecisions = (count: number) =>
  `insert into triage_decisions (${DECISION_COLUMNS}) values ${Array.from(
    { length: count },
    () => `(${list(Array.from({ length: DECISION_WIDTH }))})`,
  ).join(', ')}`

/**
 * Where a triage slice records its decisions. On PostgreSQL they are held and written
 * together (a statement a slice's read instead of one a message); whoever reads decisions in
 * the same transaction writes the held ones first (`flush`): before the next read of the
 * queue, a message read again (one of the same conversation or contact), a count of
 * complaints.
 */
export type DecisionLog = {
  record(db: Sql, record: DecisionRecord): Promise<void>
  flush(db: Sql): Promise<void>
}

/** Each decision written as it is made. */
export const decisionsAtOnce: DecisionLog = {
  record: async (db, { messageId, conversationId, decision, rulebookVersion, now }) => {
    await insertDecision(db, { messageId, conversationId }, decision, rulebookVersion, now)
  },
  flush: async () => {},
}

/** Decisions held until a read may look for them (on PostgreSQL; SQLite writes at once). */
export function heldDecisions(): DecisionLog {
  let held: DecisionRecord[] = []
  return {
    async record(db, record) {
      if (db.dialect !== 'postgres') return decisionsAtOnce.record(db, record)
      held.push(record)
    },
    async flush(db) {
      if (held.length === 0) return
      const rows = held.map(decisionValues)
      held = []
      await db.run(insertDecisions(rows.length), rows.flat())
    },
  }
}
