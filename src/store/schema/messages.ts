import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { createdAt } from './columns.js'

// Who wrote, where, and what: contacts, conversations, messages, the deliveries that brought
// them and the retries of their triage.

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
