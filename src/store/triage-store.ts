import type { Decision } from '../triage/triage.js'
import { contactRows, conversationRows, messageRows, ticketRows } from './rows.js'
import type * as schema from './schema.js'
import { list, type Sql, type Statement } from './sql.js'
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

/** The message, its conversation and its contact, as triage and planning read them. */
export async function loadTriageSubject(db: Sql, messageId: number): Promise<TriageSubject | null> {
  const [row] = await db.values(SUBJECT, [messageId])
  return row ? readSubject(row) : null
}

// Read once per triaged message: one row of values, not three tables' named columns.
export function readSubject(row: readonly unknown[]): TriageSubject {
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
  /**
   * Writes the held decisions, and `along` (a write of its own) with them: on PostgreSQL in
   * one statement, a round trip less (the slice's last flush carries the queue's cursor).
   */
  flush(db: Sql, along?: Statement | null): Promise<void>
}

/** Each decision written as it is made. */
export const decisionsAtOnce: DecisionLog = {
  record: async (db, { messageId, conversationId, decision, rulebookVersion, now }) => {
    await insertDecision(db, { messageId, conversationId }, decision, rulebookVersion, now)
  },
  flush: async (db, along) => {
    if (along) await db.run(along.text, along.params)
  },
}

/** Decisions held until a read may look for them (on PostgreSQL; SQLite writes at once). */
export function heldDecisions(): DecisionLog {
  let held: DecisionRecord[] = []
  return {
    async record(db, record) {
      if (db.dialect !== 'postgres') return decisionsAtOnce.record(db, record)
      held.push(record)
    },
    async flush(db, along) {
      if (held.length === 0) return decisionsAtOnce.flush(db, along)
      const rows = held.map(decisionValues)
      held = []
      // A data-modifying CTE runs whether or not the statement reads it.
      if (along)
        await db.run(`with along as (${along.text}) ${insertDecisions(rows.length)}`, [
          ...along.params,
          ...rows.flat(),
        ])
      else await db.run(insertDecisions(rows.length), rows.flat())
    },
  }
}
