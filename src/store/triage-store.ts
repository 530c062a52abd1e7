import { PRIORITIES, type Priority } from '../triage/rulebook/schema.js'
import type { Decision } from '../triage/triage.js'
import { contactRows, conversationRows, messageRows, ticketRows } from './rows.js'
import type * as schema from './schema.js'
import type { Sql } from './sql.js'
import type { TicketRow } from './ticket-store.js'

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

const UNDECIDED = `${SUBJECT}
     and not exists (select 1 from triage_decisions d where d.message_id = m.id)`

/** The message, its conversation and its contact, as triage and planning read them. */
export async function loadTriageSubject(db: Sql, messageId: number): Promise<TriageSubject | null> {
  return readSubject(db, SUBJECT, messageId)
}

/** The same, unless the message has a decision already (the triage's first read). */
export async function loadUndecidedSubject(
  db: Sql,
  messageId: number,
): Promise<TriageSubject | null> {
  return readSubject(db, UNDECIDED, messageId)
}

async function readSubject(db: Sql, query: string, messageId: number) {
  // Read once per triaged message: one row of values, not three tables' named columns.
  const [row] = await db.values(query, [messageId])
  if (!row) return null
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

/** Next readable ticket number for the year: TK-2026-000123. */
export async function nextTicketNumber(db: Sql, year: number, at: number): Promise<string> {
  const row = await db.get<{ value: string }>(
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

// Each priority is written out, not bound, so that every probe is a seek of the index on
// (conversation_id, priority, created_at).
const MORE_URGENT = `select case ${PRIORITIES.map(
  (priority, at) =>
    `when ? > ${at} and exists (select 1 from triage_decisions
       where conversation_id = ? and priority = '${priority}' and created_at >= ?) then '${priority}'`,
).join(' ')} end as priority`

/**
 * The most urgent priority the conversation's messages were decided at since `since`, if any
 * was more urgent than `than`. One statement probes the conversation-priority index for each
 * more urgent priority, most urgent first, and stops at the first found: it reads no decision
 * rows, however long the case has run.
 */
export async function moreUrgentSince(
  db: Sql,
  conversationId: number,
  since: number,
  than: Priority,
): Promise<Priority | null> {
  const at = PRIORITIES.indexOf(than)
  const rank = at < 0 ? PRIORITIES.length : at
  const found = await db.get<{ priority: Priority | null }>(
    MORE_URGENT,
    PRIORITIES.flatMap(() => [rank, conversationId, since]),
  )
  return found?.priority ?? null
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

export async function insertDecision(
  db: Sql,
  subject: { messageId: number; conversationId: number },
  decision: Decision,
  rulebookVersion: string,
  now: Date,
): Promise<number> {
  const row = await db.get<{ id: number }>(
    `insert into triage_decisions (message_id, conversation_id, intent, confidence, priority,
       level, signals, amount, language, queue, needs_human, actions, reply_kind, explanation,
       rulebook_version, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    [
      subject.messageId,
      subject.conversationId,
      decision.intent,
      decision.confidence,
      decision.priority,
      decision.level,
      JSON.stringify(decision.signals),
      decision.amount,
      decision.language,
      decision.queue,
      decision.needsHuman,
      JSON.stringify({ ticket: decision.ticket, reply: decision.reply }),
      decision.reply?.kind ?? null,
      JSON.stringify(decision.explanation),
      rulebookVersion,
      now.getTime(),
    ],
  )
  return row!.id
}

/** Automatic replies sent at most once a day to a conversation (see the routing). */
export type OnceADayReply = 'out_of_hours' | 'welcome'

// One probe of the partial index per kind: its own condition is written out in each, so
// SQLite uses it.
const probe = (kind: OnceADayReply) =>
  `exists (select 1 from triage_decisions where conversation_id = ?
     and created_at >= ? and reply_kind in ('out_of_hours', 'welcome') and reply_kind = '${kind}')`
const ONCE_A_DAY = `select ${probe('out_of_hours')} as "outOfHours", ${probe('welcome')} as welcome`

/** Which once-a-day replies went to the conversation since `since`. */
export async function onceADayReplies(
  db: Sql,
  conversationId: number,
  since: number,
): Promise<ReadonlySet<OnceADayReply>> {
  const row = await db.get<{ outOfHours: unknown; welcome: unknown }>(ONCE_A_DAY, [
    conversationId,
    since,
    conversationId,
    since,
  ])
  if (!row?.outOfHours && !row?.welcome) return NONE
  const kinds = new Set<OnceADayReply>()
  if (row.outOfHours) kinds.add('out_of_hours')
  if (row.welcome) kinds.add('welcome')
  return kinds
}

const NONE: ReadonlySet<OnceADayReply> = new Set()
