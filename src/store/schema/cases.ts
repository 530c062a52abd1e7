import { sql } from 'drizzle-orm'
import {
  index,
  integer,
  real,
  sqliteTable,
  sqliteView,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core'

import { createdAt } from './columns.js'
import { conversations, messages } from './messages.js'

// What the hub decided and the cases it opened: decisions, tickets, escalations, the SLA
// events that fired, the audit log.

export const triageDecisions = sqliteTable(
  'triage_decisions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id),
    conversationId: integer('conversation_id')
      .notNull()
      .references(() => conversations.id),
    intent: text('intent').notNull(),
    confidence: real('confidence').notNull(),
    priority: text('priority').notNull(),
    level: text('level'),
    signals: text('signals').notNull().default('[]'),
    amount: real('amount'),
    language: text('language').notNull(),
    queue: text('queue'),
    needsHuman: integer('needs_human', { mode: 'boolean' }).notNull(),
    /** JSON: the planned actions, as decided. */
    actions: text('actions').notNull().default('[]'),
    /** The automatic reply that went out for the message (faq, ack, welcome…), if any. */
    replyKind: text('reply_kind'),
    /** JSON: why — rules fired, classifier scores, level and priority reasons. */
    explanation: text('explanation').notNull(),
    rulebookVersion: text('rulebook_version').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('triage_decisions_message').on(t.messageId),
    // A conversation's decisions, by priority and time: whether a message in an open case was
    // more urgent than the case is a few probes of this index, however long the case is.
    index('triage_decisions_conversation_priority').on(t.conversationId, t.priority, t.createdAt),
    index('triage_decisions_created').on(t.createdAt),
    // Each triage counts the person's recent complaints over all their messages: this index
    // holds only complaints and legal threats, with their time, so that count reads no rows.
    index('triage_decisions_complaints')
      .on(t.messageId, t.createdAt)
      .where(sql`${t.intent} in ('complaint', 'legal')`),
    // And whether the conversation got a once-a-day reply lately (the out-of-hours notice,
    // the welcome): only those decisions.
    index('triage_decisions_once_a_day')
      .on(t.conversationId, t.createdAt)
      .where(sql`${t.replyKind} in ('out_of_hours', 'welcome')`),
  ],
)

export const tickets = sqliteTable(
  'tickets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Readable number, TK-2026-000123. */
    number: text('number').notNull(),
    conversationId: integer('conversation_id')
      .notNull()
      .references(() => conversations.id),
    messageId: integer('message_id').references(() => messages.id),
    type: text('type').notNull(),
    priority: text('priority').notNull(),
    queue: text('queue').notNull(),
    level: text('level'),
    status: text('status').notNull().default('abierto'),
    assignee: text('assignee'),
    firstResponseDueAt: integer('first_response_due_at'),
    resolutionDueAt: integer('resolution_due_at'),
    firstResponseAt: integer('first_response_at'),
    resolvedAt: integer('resolved_at'),
    /** Who answered the customer first (an agent's name or address). */
    firstResponseBy: text('first_response_by'),
    /** When the satisfaction survey (1–5) was sent, on resolution. */
    surveySentAt: integer('survey_sent_at'),
    satisfaction: integer('satisfaction'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('tickets_number').on(t.number),
    index('tickets_conversation').on(t.conversationId),
    index('tickets_status').on(t.status, t.queue),
    // The SLA clock's "what is due, and when is the next deadline" read these ranges.
    index('tickets_first_response_due').on(t.status, t.firstResponseDueAt),
    index('tickets_resolution_due').on(t.status, t.resolutionDueAt),
  ],
)

export const escalations = sqliteTable(
  'escalations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ticketId: integer('ticket_id')
      .notNull()
      .references(() => tickets.id),
    fromLevel: text('from_level'),
    toLevel: text('to_level').notNull(),
    reason: text('reason').notNull(),
    notes: text('notes'),
    escalatedBy: text('escalated_by').notNull(),
    receivedBy: text('received_by'),
    status: text('status').notNull().default('pendiente'),
    acceptedAt: integer('accepted_at'),
    slaDueAt: integer('sla_due_at').notNull(),
    resolution: text('resolution'),
    resolvedAt: integer('resolved_at'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('escalations_ticket').on(t.ticketId),
    index('escalations_status').on(t.status, t.slaDueAt),
  ],
)

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    details: text('details').notNull().default('{}'),
  },
  (t) => [index('audit_log_at').on(t.at), index('audit_log_subject').on(t.subject)],
)

/**
 * SLA events that fired (a warning, a breach), one per subject, kind and deadline: the SLA
 * clock never fires the same event twice, and a new deadline (after an escalation) fires anew.
 */
export const slaEvents = sqliteTable(
  'sla_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** `ticket:12` or `escalation:3`. */
    subject: text('subject').notNull(),
    kind: text('kind').notNull(),
    dueAt: integer('due_at').notNull(),
    firedAt: integer('fired_at').notNull(),
  },
  (t) => [uniqueIndex('sla_events_once').on(t.subject, t.kind, t.dueAt)],
)

/**
 * Open escalations with their urgency (ARCHITECTURE.md §1): `vencido` past the deadline,
 * `critico` under an hour left, `advertencia` under four, else `normal`. For reports and SQL
 * users; the admin API computes the same from the hub's clock.
 */
export const escalamientosActivos = sqliteView('escalamientos_activos', {
  id: integer('id').notNull(),
  ticketId: integer('ticket_id').notNull(),
  ticket: text('ticket').notNull(),
  queue: text('queue').notNull(),
  priority: text('priority').notNull(),
  fromLevel: text('from_level'),
  level: text('level').notNull(),
  reason: text('reason').notNull(),
  status: text('status').notNull(),
  escalatedBy: text('escalated_by').notNull(),
  receivedBy: text('received_by'),
  slaDueAt: integer('sla_due_at').notNull(),
  createdAt: integer('created_at').notNull(),
  urgencia: text('urgencia', { enum: ['vencido', 'critico', 'advertencia', 'normal'] }).notNull(),
}).as(
  sql`select e.id as id, e.ticket_id as ticket_id, t.number as ticket, t.queue as queue,
    t.priority as priority, e.from_level as from_level, e.to_level as level, e.reason as reason,
    e.status as status, e.escalated_by as escalated_by, e.received_by as received_by,
    e.sla_due_at as sla_due_at, e.created_at as created_at,
    case
      when e.sla_due_at <= cast(strftime('%s','now') as integer) * 1000 then 'vencido'
      when e.sla_due_at - cast(strftime('%s','now') as integer) * 1000 < 3600000 then 'critico'
      when e.sla_due_at - cast(strftime('%s','now') as integer) * 1000 < 14400000 then 'advertencia'
      else 'normal'
    end as urgencia
  from escalations e join tickets t on t.id = e.ticket_id
  where e.status in ('pendiente', 'en_proceso')`,
)
