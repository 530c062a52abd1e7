import { and, eq, gte, inArray, or, sql } from 'drizzle-orm'
import { PRIORITIES, type Priority } from '../triage/rulebook/schema.js'
import type { Decision } from '../triage/triage.js'
import { connectionOf, type Executor, placeholders, prepared, rawRows } from './db.js'
import {
  channelState,
  contacts,
  conversations,
  messages,
  tickets,
  triageDecisions,
} from './schema.js'

export type MessageRow = typeof messages.$inferSelect
export type ConversationRow = typeof conversations.$inferSelect
export type ContactRow = typeof contacts.$inferSelect

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

const messageRow = rawRows(messages)
const conversationRow = rawRows(conversations)
const contactRow = rawRows(contacts)

const subjectQuery = prepared((db) =>
  connectionOf(db)
    .prepare(
      `select ${messageRow.columns('m')}, ${conversationRow.columns('c')}, ${contactRow.columns('k')}
         from messages m
         join conversations c on c.id = m.conversation_id
         join contacts k on k.id = m.contact_id
        where m.id = ?`,
    )
    .raw(true),
)

export function loadTriageSubject(db: Executor, messageId: number): TriageSubject | null {
  const row = subjectQuery(db).get(messageId) as unknown[] | undefined
  if (!row) return null
  const message = messageRow.read(row)
  const conversation = conversationRow.read(row, messageRow.width)
  return {
    message: { ...message, meta: parseObject(message.meta) },
    conversation: { ...conversation, meta: parseObject(conversation.meta) },
    contact: contactRow.read(row, messageRow.width + conversationRow.width),
  }
}

/**
 * Complaints the same person made since `since`, on any channel: the same contact, or any
 * contact with the same email address or phone number.
 */
export function countRecentComplaints(db: Executor, contact: ContactRow, since: number): number {
  const row = recentComplaintsQuery(db).get({
    contactId: contact.id,
    // A missing email or phone matches nobody (`= NULL` is never true).
    email: contact.email || null,
    phone: contact.phone || null,
    since,
  })
  return row?.n ?? 0
}

const recentComplaintsQuery = prepared((db) => {
  // The person's contacts first (indexed by email and phone), then their messages' decisions.
  const theirContacts = db
    .select({ id: contacts.id })
    .from(contacts)
    .where(
      or(
        eq(contacts.id, sql.placeholder('contactId')),
        eq(contacts.email, sql.placeholder('email')),
        eq(contacts.phone, sql.placeholder('phone')),
      ),
    )
  return db
    .select({ n: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(triageDecisions, eq(triageDecisions.messageId, messages.id))
    .where(
      and(
        inArray(messages.contactId, theirContacts),
        // Written out, not bound: the partial index triage_decisions_complaints has this
        // very condition, and SQLite uses such an index only when the query's term matches.
        sql`${triageDecisions.intent} in ('complaint', 'legal')`,
        gte(triageDecisions.createdAt, sql.placeholder('since')),
      ),
    )
    .prepare()
})

const decisionOfMessage = prepared((db) =>
  db
    .select({ id: triageDecisions.id })
    .from(triageDecisions)
    .where(eq(triageDecisions.messageId, sql.placeholder('messageId')))
    .prepare(),
)

export function hasDecision(db: Executor, messageId: number): boolean {
  return decisionOfMessage(db).get({ messageId }) !== undefined
}

/** Next readable ticket number for the year: TK-2026-000123. */
export function nextTicketNumber(db: Executor, year: number, at: number): string {
  const row = ticketSequence(db).get({ key: `ticket_seq:${year}`, at })!
  return `TK-${year}-${String(row.value).padStart(6, '0')}`
}

const ticketSequence = prepared((db) =>
  db
    .insert(channelState)
    .values({ key: sql.placeholder('key'), value: '1', updatedAt: sql.placeholder('at') })
    .onConflictDoUpdate({
      target: channelState.key,
      set: {
        value: sql`CAST(${channelState.value} AS INTEGER) + 1`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
    .returning({ value: channelState.value })
    .prepare(),
)

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
export function openTicket(
  db: Executor,
  ticket: NewTicket,
  now: Date,
): { id: number; number: string; created: boolean } {
  const open = openTicketOf(db).get({ conversationId: ticket.conversationId })
  if (open) return { id: open.id, number: open.number, created: false }
  const at = now.getTime()
  const number = nextTicketNumber(db, now.getUTCFullYear(), at)
  const row = insertTicket(db).get({ ...ticket, number, createdAt: at, updatedAt: at })!
  return { id: row.id, number, created: true }
}

/**
 * The most urgent priority the conversation's messages were decided at since `since`, if any
 * was more urgent than `than`. One statement probes the conversation-priority index for each
 * more urgent priority, most urgent first, and stops at the first found: it reads no decision
 * rows, however long the case has run.
 */
export function moreUrgentSince(
  db: Executor,
  conversationId: number,
  since: number,
  than: Priority,
): Priority | null {
  const rank = PRIORITIES.indexOf(than)
  const found = moreUrgentQuery(db).get({
    conversation: conversationId,
    since,
    rank: rank < 0 ? PRIORITIES.length : rank,
  })
  return (found as Priority | null | undefined) ?? null
}

const moreUrgentQuery = prepared((db) =>
  connectionOf(db)
    .prepare(
      // Each priority is written out, not bound, so that every probe is a seek of the index
      // on (conversation_id, priority, created_at).
      `select case ${PRIORITIES.map(
        (priority, at) =>
          `when @rank > ${at} and exists (select 1 from triage_decisions
             where conversation_id = @conversation and priority = '${priority}'
               and created_at >= @since) then '${priority}'`,
      ).join(' ')} end`,
    )
    .pluck(true),
)

/** The conversation's open ticket (abierto or en proceso), if it has one. */
export function openTicketOfConversation(
  db: Executor,
  conversationId: number,
): typeof tickets.$inferSelect | undefined {
  return openTicketOf(db).get({ conversationId })
}

const openTicketOf = prepared((db) =>
  db
    .select()
    .from(tickets)
    .where(
      and(
        eq(tickets.conversationId, sql.placeholder('conversationId')),
        inArray(tickets.status, ['abierto', 'en_proceso']),
      ),
    )
    .prepare(),
)

const insertTicket = prepared((db) =>
  db
    .insert(tickets)
    .values(
      placeholders([
        'conversationId',
        'messageId',
        'type',
        'priority',
        'queue',
        'level',
        'assignee',
        'firstResponseDueAt',
        'resolutionDueAt',
        'number',
        'createdAt',
        'updatedAt',
      ]),
    )
    .returning({ id: tickets.id })
    .prepare(),
)

export function insertDecision(
  db: Executor,
  subject: { messageId: number; conversationId: number },
  decision: Decision,
  rulebookVersion: string,
  now: Date,
): number {
  const row = insertDecisionQuery(db).get({
    messageId: subject.messageId,
    conversationId: subject.conversationId,
    intent: decision.intent,
    confidence: decision.confidence,
    priority: decision.priority,
    level: decision.level,
    signals: JSON.stringify(decision.signals),
    amount: decision.amount,
    language: decision.language,
    queue: decision.queue,
    needsHuman: decision.needsHuman,
    actions: JSON.stringify({ ticket: decision.ticket, reply: decision.reply }),
    replyKind: decision.reply?.kind ?? null,
    explanation: JSON.stringify(decision.explanation),
    rulebookVersion,
    createdAt: now.getTime(),
  })!
  return row.id
}

const insertDecisionQuery = prepared((db) =>
  db
    .insert(triageDecisions)
    .values(
      placeholders([
        'messageId',
        'conversationId',
        'intent',
        'confidence',
        'priority',
        'level',
        'signals',
        'amount',
        'language',
        'queue',
        'needsHuman',
        'actions',
        'replyKind',
        'explanation',
        'rulebookVersion',
        'createdAt',
      ]),
    )
    .returning({ id: triageDecisions.id })
    .prepare(),
)

/** Automatic replies sent at most once a day to a conversation (see the routing). */
export type OnceADayReply = 'out_of_hours' | 'welcome'

/** Which once-a-day replies went to the conversation since `since`. */
export function onceADayReplies(
  db: Executor,
  conversationId: number,
  since: number,
): ReadonlySet<OnceADayReply> {
  const [outOfHours, welcome] = onceADayQuery(db).get({ conversationId, since }) as [number, number]
  if (!outOfHours && !welcome) return NONE
  const kinds = new Set<OnceADayReply>()
  if (outOfHours) kinds.add('out_of_hours')
  if (welcome) kinds.add('welcome')
  return kinds
}

const NONE: ReadonlySet<OnceADayReply> = new Set()

const onceADayQuery = prepared((db) => {
  // One probe of the partial index per kind: its own condition is written out in each, so
  // SQLite uses it.
  const probe = (kind: OnceADayReply) =>
    `exists (select 1 from triage_decisions where conversation_id = @conversationId
       and created_at >= @since and reply_kind in ('out_of_hours', 'welcome') and reply_kind = '${kind}')`
  return connectionOf(db)
    .prepare(`select ${probe('out_of_hours')}, ${probe('welcome')}`)
    .raw(true)
})
