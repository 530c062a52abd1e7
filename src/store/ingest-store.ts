import { and, eq, inArray, sql } from 'drizzle-orm'
import type { ChannelEvent, NormalizedMessage } from '../contracts/message.js'
import {
  type FeedbackContext,
  NO_FEEDBACK_CONTEXT,
  recordChannelFeedback,
} from '../learning/channel-feedback.js'
import { type Db, type Executor, placeholders, prepared, writeTransaction } from './db.js'
import { channelState, contacts, conversations, messages, webhookDeliveries } from './schema.js'
import { recordFirstResponse } from './ticket-store.js'

/** State key under which a channel's confirmation of a message sent with an effect key is kept. */
export const sentKey = (channel: string, effectKey: string) => `${channel}:sent:${effectKey}`

export type PersistResult =
  | { outcome: 'duplicate' } // the delivery was seen before: nothing written
  | {
      outcome: 'stored'
      /** Ids of messages written now (already-known message ids are skipped). */
      messageIds: number[]
      /** How many of those are queued for triage (`triage-queue.ts`: storing them queues them). */
      triageJobs: number
      duplicateMessages: number
    }

export type Delivery = {
  channel: string
  /** Null for sources without a delivery id (SMTP, IMAP): messages dedupe on their own ids. */
  deliveryId: string | null
  rawHash: string
  messages: readonly NormalizedMessage[]
  events: readonly ChannelEvent[]
}

/**
 * Dedupes and stores in one transaction: when this returns, everything the delivery carried is
 * durable and queued for triage, so the caller may acknowledge.
 */
export function persistDelivery(
  db: Db,
  delivery: Delivery,
  now: Date,
  context: FeedbackContext = NO_FEEDBACK_CONTEXT,
): PersistResult {
  const at = now.getTime()
  return writeTransaction(db, (tx) => {
    let deliveryRowId: number | null = null
    if (delivery.deliveryId !== null) {
      const inserted = insertDelivery(tx).get({
        channel: delivery.channel,
        deliveryId: delivery.deliveryId,
        rawHash: delivery.rawHash,
        messageCount: delivery.messages.length,
        receivedAt: at,
      })
      if (!inserted) return { outcome: 'duplicate' } as const
      deliveryRowId = inserted.id
    }
    const messageIds: number[] = []
    let triageJobs = 0
    for (const message of delivery.messages) {
      const id = storeMessage(tx, message, deliveryRowId, at)
      if (id === null) continue
      messageIds.push(id)
      if (message.triage) triageJobs++
    }
    for (const event of delivery.events) applyEvent(tx, event, at, context)
    return {
      outcome: 'stored',
      messageIds,
      triageJobs,
      duplicateMessages: delivery.messages.length - messageIds.length,
    } as const
  })
}

const insertDelivery = prepared((db) =>
  db
    .insert(webhookDeliveries)
    .values(placeholders(['channel', 'deliveryId', 'rawHash', 'messageCount', 'receivedAt']))
    .onConflictDoNothing()
    .returning({ id: webhookDeliveries.id })
    .prepare(),
)

type Waiting = {
  delivery: Delivery
  now: Date
  resolve: (result: PersistResult) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: deliveries that arrive together (the same turn of the event loop) are written
 * in one transaction, each inside its own savepoint (a failing one rolls back alone), and every
 * caller is answered only after that commit. Under load this writes each index page once per
 * batch instead of once per delivery; alone, a delivery waits one turn.
 */
export type GroupCommit = {
  (delivery: Delivery, now: Date): Promise<PersistResult>
  /** Whether deliveries are waiting for their commit (their senders for an answer). */
  readonly waiting: () => boolean
}

export function groupCommit(db: Db, context: FeedbackContext = NO_FEEDBACK_CONTEXT): GroupCommit {
  let queue: Waiting[] = []
  const flush = () => {
    const batch = queue
    queue = []
    const outcomes: ({ ok: true; result: PersistResult } | { ok: false; error: unknown })[] = []
    try {
      writeTransaction(db, () => {
        for (const item of batch) {
          try {
            outcomes.push({
              ok: true,
              result: persistDelivery(db, item.delivery, item.now, context),
            })
          } catch (error) {
            outcomes.push({ ok: false, error })
          }
        }
      })
    } catch (error) {
      // The commit itself failed: nothing of the batch is stored, every sender hears so.
      for (const item of batch) item.reject(error)
      return
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) item.resolve(outcome.result)
      else item.reject(outcome.error)
    })
  }
  const persist = (delivery: Delivery, now: Date) =>
    new Promise<PersistResult>((resolve, reject) => {
      queue.push({ delivery, now, resolve, reject })
      if (queue.length === 1) setImmediate(flush)
    })
  return Object.assign(persist, { waiting: () => queue.length > 0 })
}

/** Stores one message with its contact and conversation; null when the message was known. */
function storeMessage(
  db: Executor,
  message: NormalizedMessage,
  deliveryRowId: number | null,
  at: number,
): number | null {
  const known = messageByExternalId(db).get({
    channel: message.channel,
    externalId: message.externalId,
  })
  if (known) return null

  const contactId = upsertContact(db, message, at)
  const conversationId =
    threadConversation(db, message) ?? upsertConversation(db, message, contactId, at)
  // A sender's clock (an email's Date header) may say anything: a message never counts as
  // written after it arrived, so a future date cannot make it the latest of its conversation.
  const receivedAt = Date.parse(message.receivedAt)
  const sentAt = Math.min(Date.parse(message.sentAt), receivedAt)
  const inserted = insertMessage(db).get({
    channel: message.channel,
    externalId: message.externalId,
    conversationId,
    contactId,
    deliveryId: deliveryRowId,
    direction: message.direction,
    authorRole: message.authorRole,
    text: message.text,
    subject: message.subject ?? null,
    language: message.language,
    attachments: JSON.stringify(message.attachments),
    automated: message.automated,
    triage: message.triage,
    meta: JSON.stringify(message.meta),
    sentAt,
    receivedAt,
    rawHash: message.rawHash,
  })!
  touchConversation(db, conversationId, message, sentAt, at)
  return inserted.id
}

/** The id of a message or conversation by its channel's own id, as a prepared query. */
function idByExternalId(table: typeof messages | typeof conversations) {
  return prepared((db) =>
    db
      .select({ id: table.id })
      .from(table)
      .where(
        and(
          eq(table.channel, sql.placeholder('channel')),
          eq(table.externalId, sql.placeholder('externalId')),
        ),
      )
      .prepare(),
  )
}

const messageByExternalId = idByExternalId(messages)

const insertMessage = prepared((db) =>
  db
    .insert(messages)
    .values(
      placeholders([
        'channel',
        'externalId',
        'conversationId',
        'contactId',
        'deliveryId',
        'direction',
        'authorRole',
        'text',
        'subject',
        'language',
        'attachments',
        'automated',
        'triage',
        'meta',
        'sentAt',
        'receivedAt',
        'rawHash',
      ]),
    )
    .returning({ id: messages.id })
    .prepare(),
)

/**
 * The contact's id, created or given the details it lacked. A known contact whose details did
 * not change is only read: most messages come from someone the hub has seen, and rewriting
 * the row would rewrite its email and phone index entries too. (`updated_at` is when the
 * details last changed.)
 */
function upsertContact(db: Executor, message: NormalizedMessage, at: number): number {
  const { name, email, phone } = message.contact
  const known = contactByExternalId(db).get({
    channel: message.channel,
    externalId: message.contactExternalId,
  })
  const same = (given: string | null | undefined, stored: string | null) =>
    given == null || given === stored
  if (known && same(name, known.name) && same(email, known.email) && same(phone, known.phone))
    return known.id
  const row = upsertContactQuery(db).get({
    channel: message.channel,
    externalId: message.contactExternalId,
    name: name ?? null,
    email: email ?? null,
    phone: phone ?? null,
    at,
  })!
  return row.id
}

const contactByExternalId = prepared((db) =>
  db
    .select({ id: contacts.id, name: contacts.name, email: contacts.email, phone: contacts.phone })
    .from(contacts)
    .where(
      and(
        eq(contacts.channel, sql.placeholder('channel')),
        eq(contacts.externalId, sql.placeholder('externalId')),
      ),
    )
    .prepare(),
)

const upsertContactQuery = prepared((db) =>
  db
    .insert(contacts)
    .values({
      ...placeholders(['channel', 'externalId', 'name', 'email', 'phone']),
      createdAt: sql.placeholder('at'),
      updatedAt: sql.placeholder('at'),
    })
    .onConflictDoUpdate({
      target: [contacts.channel, contacts.externalId],
      set: {
        name: sql`coalesce(excluded.name, ${contacts.name})`,
        email: sql`coalesce(excluded.email, ${contacts.email})`,
        phone: sql`coalesce(excluded.phone, ${contacts.phone})`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
    .returning({ id: contacts.id })
    .prepare(),
)

/** The conversation of the first earlier message this one refers to, if the hub has it. */
function threadConversation(db: Executor, message: NormalizedMessage): number | null {
  const refs = message.threadRefs?.filter((ref) => ref.length > 0) ?? []
  if (refs.length === 0) return null
  const rows = db
    .select({ externalId: messages.externalId, conversationId: messages.conversationId })
    .from(messages)
    .where(and(eq(messages.channel, message.channel), inArray(messages.externalId, refs)))
    .all()
  for (const ref of refs) {
    const hit = rows.find((row) => row.externalId === ref)
    if (hit) return hit.conversationId
  }
  return null
}

function upsertConversation(
  db: Executor,
  message: NormalizedMessage,
  contactId: number,
  at: number,
): number {
  // A known conversation is only read here: touchConversation stamps it for every message.
  const known = conversationByExternalId(db).get({
    channel: message.channel,
    externalId: message.conversationExternalId,
  })
  if (known) return known.id
  const row = upsertConversationQuery(db).get({
    channel: message.channel,
    externalId: message.conversationExternalId,
    contactId,
    language: message.language,
    at,
  })!
  return row.id
}

const conversationByExternalId = idByExternalId(conversations)

const upsertConversationQuery = prepared((db) =>
  db
    .insert(conversations)
    .values({
      ...placeholders(['channel', 'externalId', 'contactId', 'language']),
      createdAt: sql.placeholder('at'),
      updatedAt: sql.placeholder('at'),
    })
    .onConflictDoUpdate({
      target: [conversations.channel, conversations.externalId],
      set: { updatedAt: sql`excluded.updated_at` },
    })
    .returning({ id: conversations.id })
    .prepare(),
)

const touchInbound = prepared((db) =>
  db
    .update(conversations)
    .set({
      lastInboundAt: sql`max(coalesce(${conversations.lastInboundAt}, 0), ${sql.placeholder('sentAt')})`,
      updatedAt: sql`${sql.placeholder('at')}`,
    })
    .where(eq(conversations.id, sql.placeholder('id')))
    .prepare(),
)

/** Stamps the conversation with the message: when it last moved, and who spoke last. */
function touchConversation(
  db: Executor,
  conversationId: number,
  message: NormalizedMessage,
  sentAt: number,
  at: number,
): void {
  if (message.direction === 'inbound') {
    touchInbound(db).run({ id: conversationId, sentAt, at })
  } else if (message.authorRole === 'agent' || message.authorRole === 'operator') {
    db.update(conversations)
      .set({
        lastAgentReplyAt: sql`max(coalesce(${conversations.lastAgentReplyAt}, 0), ${sentAt})`,
        updatedAt: at,
      })
      .where(eq(conversations.id, conversationId))
      .run()
    // A person answered in the channel itself: the ticket's first response.
    const who =
      typeof message.meta.senderName === 'string'
        ? message.meta.senderName
        : `${message.channel} agent`
    recordFirstResponse(db, conversationId, who, sentAt)
  } else {
    db.update(conversations)
      .set({ updatedAt: at })
      .where(eq(conversations.id, conversationId))
      .run()
  }
}

function applyEvent(db: Executor, event: ChannelEvent, at: number, context: FeedbackContext): void {
  switch (event.type) {
    case 'conversation_status':
      db.update(conversations)
        .set({ status: event.status, updatedAt: at })
        .where(
          and(
            eq(conversations.channel, event.channel),
            eq(conversations.externalId, event.conversationExternalId),
          ),
        )
        .run()
      return
    case 'delivery_status':
      db.update(messages)
        .set({ deliveryState: event.status })
        .where(
          and(
            eq(messages.channel, event.channel),
            eq(messages.externalId, event.messageExternalId),
          ),
        )
        .run()
      // The channel confirms it has the message sent under this key: a send that may have
      // been cut short is not repeated (see the outbound executors).
      if (event.callbackKey) {
        db.insert(channelState)
          .values({
            key: sentKey(event.channel, event.callbackKey),
            value: event.messageExternalId,
            updatedAt: at,
          })
          .onConflictDoNothing()
          .run()
      }
      return
    case 'triage_feedback':
      recordChannelFeedback(db, event, context, at)
      return
    default: {
      const unreachable: never = event
      throw new Error(`unknown channel event ${JSON.stringify(unreachable)}`)
    }
  }
}
