import { sql } from 'drizzle-orm'
import {
  blob,
  index,
  integer,
  real,
  sqliteTable,
  sqliteView,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core'

// Times are unix milliseconds (integers): cheap to compare and index, no timezone ambiguity.
const createdAt = () =>
  integer('created_at').notNull().default(sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`)

export const contacts = sqliteTable(
  'contacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channel: text('channel').notNull(),
    externalId: text('external_id').notNull(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('contacts_channel_external').on(t.channel, t.externalId),
    // The same person across channels (repeat complaints): by email address or phone.
    index('contacts_email').on(t.email),
    index('contacts_phone').on(t.phone),
  ],
)

export const conversations = sqliteTable(
  'conversations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channel: text('channel').notNull(),
    externalId: text('external_id').notNull(),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id),
    status: text('status').notNull().default('open'),
    language: text('language'),
    /** JSON: channel details the outbound side needs (ids, thread headers, mirror ids). */
    meta: text('meta').notNull().default('{}'),
    lastInboundAt: integer('last_inbound_at'),
    lastAgentReplyAt: integer('last_agent_reply_at'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('conversations_channel_external').on(t.channel, t.externalId),
    index('conversations_contact').on(t.contactId),
  ],
)

export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channel: text('channel').notNull(),
    deliveryId: text('delivery_id').notNull(),
    rawHash: text('raw_hash').notNull(),
    messageCount: integer('message_count').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_channel_delivery').on(t.channel, t.deliveryId),
    index('webhook_deliveries_received').on(t.receivedAt),
  ],
)

export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channel: text('channel').notNull(),
    externalId: text('external_id').notNull(),
    conversationId: integer('conversation_id')
      .notNull()
      .references(() => conversations.id),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id),
    deliveryId: integer('delivery_id').references(() => webhookDeliveries.id),
    direction: text('direction', { enum: ['inbound', 'outbound'] }).notNull(),
    authorRole: text('author_role').notNull(),
    text: text('text').notNull(),
    subject: text('subject'),
    language: text('language'),
    /** JSON array of attachments (name, type, size, ids): never the content. */
    attachments: text('attachments').notNull().default('[]'),
    automated: integer('automated', { mode: 'boolean' }).notNull().default(false),
    triage: integer('triage', { mode: 'boolean' }).notNull(),
    meta: text('meta').notNull().default('{}'),
    /** For messages the hub sent: sent / delivered / read / failed as the channel reports. */
    deliveryState: text('delivery_state'),
    sentAt: integer('sent_at').notNull(),
    receivedAt: integer('received_at').notNull(),
    rawHash: text('raw_hash').notNull(),
  },
  (t) => [
    uniqueIndex('messages_channel_external').on(t.channel, t.externalId),
    index('messages_conversation').on(t.conversationId, t.sentAt),
    index('messages_contact').on(t.contactId),
    index('messages_delivery').on(t.deliveryId),
    index('messages_received').on(t.receivedAt),
  ],
)

/**
 * Durable work that must be tried again: today the triage of a message whose first try failed
 * (new messages are queued by the messages table itself: `triage-queue.ts`). One row per
 * (kind, ref).
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    refId: integer('ref_id').notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    runAt: integer('run_at').notNull(),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('jobs_kind_ref').on(t.kind, t.refId),
    index('jobs_due').on(t.status, t.runAt),
  ],
)

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

/** Transactional outbox: every outbound effect, with its idempotency key. */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    idempotencyKey: text('idempotency_key').notNull(),
    kind: text('kind').notNull(),
    /** What the effect is about, for listing: `message:12`, `ticket:3`. */
    subject: text('subject').notNull(),
    payload: text('payload').notNull(),
    /** Key of an effect that must be done first (mirror before assign). */
    afterKey: text('after_key'),
    /** The conversation it concerns, when it is about one (reply caps, listings). */
    conversationId: integer('conversation_id'),
    /** Whom it writes to (an email address, a phone number), for per-recipient caps. */
    recipient: text('recipient'),
    /** A message the hub sends on its own (FAQ answer, acknowledgement, notice). */
    automatic: integer('automatic', { mode: 'boolean' }).notNull().default(false),
    status: text('status', { enum: ['pending', 'in_flight', 'done', 'dead'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    result: text('result'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
    doneAt: integer('done_at'),
  },
  (t) => [
    uniqueIndex('outbox_idempotency_key').on(t.idempotencyKey),
    index('outbox_due').on(t.status, t.nextAttemptAt),
    index('outbox_conversation').on(t.conversationId, t.createdAt),
    index('outbox_recipient').on(t.recipient, t.createdAt),
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
 * Console sign-ins: one row per session, keyed by a hash of the random value its cookie holds
 * (the database never holds a usable cookie). Signing out deletes the row.
 */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    /** Who signed in, as the audit log names them. */
    actor: text('actor').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expires').on(t.expiresAt)],
)

/**
 * A person's correction of a triage decision (`src/learning/corrections.ts`): the message's
 * text as it was, what the hub decided, and only what the person changed. Kept for good (they
 * are the hub's training examples); they never leave the hub but as an export.
 */
export const corrections = sqliteTable(
  'corrections',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id),
    decisionId: integer('decision_id')
      .notNull()
      .references(() => triageDecisions.id),
    /** Where the person corrected it: `chatwoot`, `console` or `api`. */
    source: text('source').notNull(),
    actor: text('actor').notNull(),
    /** The text the triage read (subject and body), as it was. */
    text: text('text').notNull(),
    language: text('language').notNull(),
    /** JSON: the decision's intent, signals, level and queue. */
    decided: text('decided').notNull(),
    /** JSON: the fields the person changed, with their new values. */
    corrected: text('corrected').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('corrections_decision').on(t.decisionId),
    index('corrections_created').on(t.createdAt),
  ],
)

/**
 * Classifier models trained on the corpus plus corrections (`src/learning/retrain.ts`): the one
 * in use (`active`; none means the model of the shipped corpus), earlier ones kept for a
 * rollback (`previous`), ones rolled back (`retired`) and retrains that were not adopted
 * (`refused`, without a model), each with its measures and why.
 */
export const classifierModels = sqliteTable(
  'classifier_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    status: text('status', { enum: ['active', 'previous', 'retired', 'refused'] }).notNull(),
    reason: text('reason').notNull(),
    /** JSON: the candidate's and the reference's measures on both held-out sets. */
    metrics: text('metrics').notNull(),
    corpusHash: text('corpus_hash').notNull(),
    modelVersion: text('model_version').notNull(),
    /** The newest correction it learnt from (0: none). */
    throughCorrection: integer('through_correction').notNull(),
    /** How many corrections it learnt from. */
    corrections: integer('corrections').notNull(),
    by: text('by').notNull(),
    /** The compiled model (`encodeModel`); dropped from old and refused rows. */
    model: blob('model', { mode: 'buffer' }),
    createdAt: integer('created_at').notNull(),
    activatedAt: integer('activated_at'),
  },
  (t) => [uniqueIndex('classifier_models_active').on(t.status).where(sql`${t.status} = 'active'`)],
)

/** Small durable key/value state for channels (IMAP UIDVALIDITY and last UID, counters). */
export const channelState = sqliteTable('channel_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
})

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
