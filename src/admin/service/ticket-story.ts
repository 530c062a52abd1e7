import {
  contactRows,
  conversationRows,
  decisionRows,
  escalationRows,
  messageRows,
} from '../../store/rows.js'
import { list, type Sql } from '../../store/sql.js'
import type { TicketRow } from '../../store/ticket-store.js'
import { escalationView } from './escalations.js'
import { json } from './kit.js'
import { ticketView } from './views.js'

/** Why an answer stored in a conversation was refused as a person's answer, if it was. */
const refusedOf = (meta: string): string | null => {
  const value = (JSON.parse(meta) as { relayRefused?: unknown }).relayRefused
  return typeof value === 'string' ? value : null
}

/** A ticket with its conversation, contact, every interaction, decision and escalation. */
export async function ticketStory(db: Sql, ticket: TicketRow, now: number) {
  const conversationId = ticket.conversationId
  const [conversationRow, interactions, decisions, history] = await Promise.all([
    db.get(`select ${conversationRows.select('c')} from conversations c where c.id = ?`, [
      conversationId,
    ]),
    db.all(
      `select ${messageRows.select('m')} from messages m where m.conversation_id = ?
        order by m.sent_at, m.id`,
      [conversationId],
    ),
    db.all(
      `select ${decisionRows.select('d')} from triage_decisions d where d.conversation_id = ?
        order by d.id`,
      [conversationId],
    ),
    db.all(
      `select ${escalationRows.select('e')} from escalations e where e.ticket_id = ? order by e.id`,
      [ticket.id],
    ),
  ])
  const subjects = [`ticket:${ticket.id}`, ...history.map((row) => `escalation:${row.id}`)]
  const [trail, sent] = await Promise.all([
    db.all<{ id: number; at: number; actor: string; action: string; details: string }>(
      `select id, at, actor, action, details from audit_log where subject = ? order by id`,
      [`ticket:${ticket.id}`],
    ),
    db.all<{
      id: number
      key: string
      kind: string
      recipient: string | null
      status: string
      attempts: number
      lastError: string | null
      createdAt: number
      doneAt: number | null
    }>(
      `select id, idempotency_key as "key", kind, recipient, status, attempts,
              last_error as "lastError", created_at as "createdAt", done_at as "doneAt"
         from outbox where subject in (${list(subjects)}) order by id`,
      subjects,
    ),
  ])
  const conversation = conversationRow && conversationRows.read(conversationRow)
  const contactRow =
    conversation &&
    (await db.get(`select ${contactRows.select('k')} from contacts k where k.id = ?`, [
      conversation.contactId,
    ]))
  const contact = contactRow ? contactRows.read(contactRow) : undefined
  const escalations = history.map((row) => escalationView(escalationRows.read(row), now))
  const levelDue = escalations
    .filter((e) => e.urgency !== null)
    .reduce<number | null>((min, e) => (min === null || e.slaDueAt < min ? e.slaDueAt : min), null)
  return {
    ticket: ticketView(ticket, now, levelDue),
    conversation: conversation && {
      id: conversation.id,
      channel: conversation.channel,
      status: conversation.status,
    },
    contact: contact && {
      name: contact.name,
      email: contact.email,
      phone: contact.phone,
      channel: contact.channel,
    },
    interactions: interactions.map((row) => {
      const m = messageRows.read(row)
      return {
        id: m.id,
        channel: m.channel,
        direction: m.direction,
        authorRole: m.authorRole,
        text: m.text,
        subject: m.subject,
        attachments: json(m.attachments),
        automated: m.automated,
        deliveryState: m.deliveryState,
        sentAt: m.sentAt,
        // An answer to a queue's email that was not the queue's: kept, never sent.
        relayRefused: refusedOf(m.meta),
      }
    }),
    decisions: decisions.map((row) => {
      const d = decisionRows.read(row)
      return {
        id: d.id,
        messageId: d.messageId,
        intent: d.intent,
        confidence: d.confidence,
        priority: d.priority,
        level: d.level,
        queue: d.queue,
        signals: json(d.signals),
        language: d.language,
        explanation: json(d.explanation),
        createdAt: d.createdAt,
      }
    }),
    escalations,
    /** What people and the hub did to the case: status changes, notes, replies, escalations, alerts not sent. */
    trail: trail.map((a) => ({
      id: Number(a.id),
      at: Number(a.at),
      actor: a.actor,
      action: a.action,
      details: (json(a.details) ?? {}) as Record<string, unknown>,
    })),
    /** What the hub sent about the case (replies from the console, alerts), and how it went. */
    sent: sent.map((e) => ({
      ...e,
      id: Number(e.id),
      attempts: Number(e.attempts),
      createdAt: Number(e.createdAt),
      doneAt: e.doneAt === null ? null : Number(e.doneAt),
    })),
  }
}
