import { and, eq, gte, inArray, or, sql } from 'drizzle-orm'
import type { Decision } from '../triage/triage.js'
import type { Executor } from './db.js'
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

export function loadTriageSubject(db: Executor, messageId: number): TriageSubject | null {
  const row = db
    .select({ message: messages, conversation: conversations, contact: contacts })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .innerJoin(contacts, eq(contacts.id, messages.contactId))
    .where(eq(messages.id, messageId))
    .get()
  if (!row) return null
  return {
    message: { ...row.message, meta: parseObject(row.message.meta) },
    conversation: { ...row.conversation, meta: parseObject(row.conversation.meta) },
    contact: row.contact,
  }
}

/**
 * Complaints the same person made since `since`, on any channel: the same contact, or any
 * contact with the same email address or phone number.
 */
export function countRecentComplaints(db: Executor, contact: ContactRow, since: number): number {
  // The person's contacts first (indexed by email and phone), then their messages' decisions.
  const sameContact = [eq(contacts.id, contact.id)]
  if (contact.email) sameContact.push(eq(contacts.email, contact.email))
  if (contact.phone) sameContact.push(eq(contacts.phone, contact.phone))
  const theirContacts = db
    .select({ id: contacts.id })
    .from(contacts)
    .where(or(...sameContact))
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(messages)
    .innerJoin(triageDecisions, eq(triageDecisions.messageId, messages.id))
    .where(
      and(
        inArray(messages.contactId, theirContacts),
        inArray(triageDecisions.intent, ['complaint', 'legal']),
        gte(triageDecisions.createdAt, since),
      ),
    )
    .get()
  return row?.n ?? 0
}

export function hasDecision(db: Executor, messageId: number): boolean {
  return (
    db
      .select({ id: triageDecisions.id })
      .from(triageDecisions)
      .where(eq(triageDecisions.messageId, messageId))
      .get() !== undefined
  )
}

/** Next readable ticket number for the year: TK-2026-000123. */
export function nextTicketNumber(db: Executor, year: number, at: number): string {
  const key = `ticket_seq:${year}`
  const row = db
    .insert(channelState)
    .values({ key, value: '1', updatedAt: at })
    .onConflictDoUpdate({
      target: channelState.key,
      set: { value: sql`CAST(${channelState.value} AS INTEGER) + 1`, updatedAt: at },
    })
    .returning({ value: channelState.value })
    .get()
  return `TK-${year}-${String(row.value).padStart(6, '0')}`
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
export function openTicket(
  db: Executor,
  ticket: NewTicket,
  now: Date,
): { id: number; number: string; created: boolean } {
  const open = db
    .select({ id: tickets.id, number: tickets.number })
    .from(tickets)
    .where(
      and(
        eq(tickets.conversationId, ticket.conversationId),
        inArray(tickets.status, ['abierto', 'en_proceso']),
      ),
    )
    .get()
  if (open) return { ...open, created: false }
  const at = now.getTime()
  const number = nextTicketNumber(db, now.getUTCFullYear(), at)
  const row = db
    .insert(tickets)
    .values({ ...ticket, number, createdAt: at, updatedAt: at })
    .returning({ id: tickets.id })
    .get()
  return { id: row.id, number, created: true }
}

export function insertDecision(
  db: Executor,
  subject: { messageId: number; conversationId: number },
  decision: Decision,
  rulebookVersion: string,
  now: Date,
): number {
  const row = db
    .insert(triageDecisions)
    .values({
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
      explanation: JSON.stringify(decision.explanation),
      rulebookVersion,
      createdAt: now.getTime(),
    })
    .returning({ id: triageDecisions.id })
    .get()
  return row.id
}

/** Whether an automatic reply of `kind` went to the conversation since `since`. */
export function repliedWith(
  db: Executor,
  conversationId: number,
  kind: string,
  since: number,
): boolean {
  return (
    db
      .select({ id: triageDecisions.id })
      .from(triageDecisions)
      .where(
        and(
          eq(triageDecisions.conversationId, conversationId),
          gte(triageDecisions.createdAt, since),
          sql`json_extract(${triageDecisions.actions}, '$.reply.kind') = ${kind}`,
        ),
      )
      .get() !== undefined
  )
}
