import type { ChannelEvent, NormalizedMessage } from '../contracts/message.js'
import {
  type FeedbackContext,
  NO_FEEDBACK_CONTEXT,
  recordChannelFeedback,
} from '../learning/channel-feedback.js'
import { persistAtOnce } from './ingest-at-once.js'
import { persistTogether } from './ingest-batch.js'
import { createNewcomers } from './ingest-newcomers.js'
import { storingMessages } from './one-at-a-time.js'
import { greatest, list, type Sql } from './sql.js'
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
  db: Sql,
  delivery: Delivery,
  now: Date,
  context: FeedbackContext = NO_FEEDBACK_CONTEXT,
  /**
   * Run in the caller's transaction, with no savepoint of its own: the group commit's, which
   * holds `storingMessages` and decides what a failure rolls back.
   */
  inBatch = false,
): Promise<PersistResult> {
  const at = now.getTime()
  const store = async (tx: Sql): Promise<PersistResult> => {
    let deliveryRowId: number | null = null
    if (delivery.deliveryId !== null) {
      const inserted = await tx.get<{ id: number }>(
        `insert into webhook_deliveries (channel, delivery_id, raw_hash, message_count, received_at)
         values (?, ?, ?, ?, ?) on conflict do nothing returning id`,
        [delivery.channel, delivery.deliveryId, delivery.rawHash, delivery.messages.length, at],
      )
      if (!inserted) return { outcome: 'duplicate' } as const
      deliveryRowId = inserted.id
    }
    const messageIds: number[] = []
    let triageJobs = 0
    for (const message of delivery.messages) {
      const id = await storeMessage(tx, message, deliveryRowId, at)
      if (id === null) continue
      messageIds.push(id)
      if (message.triage) triageJobs++
    }
    for (const event of delivery.events) await applyEvent(tx, event, at, context)
    return {
      outcome: 'stored',
      messageIds,
      triageJobs,
      duplicateMessages: delivery.messages.length - messageIds.length,
    } as const
  }
  if (inBatch) return store(db)
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await storingMessages(tx)
    return store(tx)
  })
}

type Waiting = {
  delivery: Delivery
  now: Date
  resolve: (result: PersistResult) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: deliveries that arrive together (the same turn of the event loop) are written
 * in one transaction, and every caller is answered only after that commit. A failing one
 * rolls back alone: the batch is then written again, each delivery in a savepoint of its own.
 * (On PostgreSQL the batch is first written in a few statements for all of it:
 * `ingest-batch.ts`.) Under load this writes each index page once per batch instead of once
 * per delivery; alone, a delivery waits one turn.
 */
export type GroupCommit = {
  (delivery: Delivery, now: Date): Promise<PersistResult>
  /** Whether deliveries are waiting for their commit (their senders for an answer). */
  readonly waiting: () => boolean
}

export function groupCommit(db: Sql, context: FeedbackContext = NO_FEEDBACK_CONTEXT): GroupCommit {
  let queue: Waiting[] = []
  const flush = async () => {
    const batch = queue
    queue = []
    let outcomes: ({ ok: true; result: PersistResult } | { ok: false; error: unknown })[] = []
    const one = (tx: Sql, item: Waiting) =>
      persistDelivery(tx, item.delivery, item.now, context, true)
    const store = (isolated: boolean) =>
      db.transaction(async (tx) => {
        // A transaction PostgreSQL aborted for another's sake runs again from here.
        outcomes = []
        // On PostgreSQL the batch takes the storing turn with its first read.
        if (tx.dialect === 'postgres' && isolated) await storingMessages(tx)
        if (!isolated) {
          const results =
            tx.dialect === 'postgres'
              ? await persistTogether(tx, batch, one)
              : await inOrder(batch, (item) => one(tx, item))
          outcomes = results.map((result) => ({ ok: true, result }))
          return
        }
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, result: await tx.transaction((own) => one(own, item)) })
          } catch (error) {
            outcomes.push({ ok: false, error })
          }
        }
      })
    try {
      // On PostgreSQL the usual batch is one statement (`persistAtOnce`); any other, or one
      // that statement fails, is first stored with no savepoint per delivery (on PostgreSQL,
      // in a few statements for all of it); if that fails, again one delivery at a time, each
      // in a savepoint, so that one that fails fails alone.
      let atOnce = await persistAtOnce(db, batch).catch(() => null)
      // A batch that brings new people or conversations creates them first, on its own, and
      // then goes the usual way (`createNewcomers`).
      if (!atOnce && (await createNewcomers(db, batch).catch(() => 0)) > 0)
        atOnce = await persistAtOnce(db, batch).catch(() => null)
      if (atOnce) outcomes = atOnce.map((result) => ({ ok: true, result }))
      else await store(false).catch(() => store(true))
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
  // On PostgreSQL one commit is in flight at a time (they take turns anyway: `storingMessages`);
  // deliveries that arrive meanwhile wait for the next one, all together, instead of each
  // batch holding a connection while it waits for the lock. SQLite's writes take turns in
  // the door itself: a batch is flushed as soon as it starts.
  const oneInFlight = db.dialect === 'postgres'
  let flushing = false
  const next = () => {
    flushing = true
    setImmediate(
      () =>
        void flush().finally(() => {
          flushing = false
          if (queue.length > 0) next()
        }),
    )
  }
  const persist = (delivery: Delivery, now: Date) =>
    new Promise<PersistResult>((resolve, reject) => {
      queue.push({ delivery, now, resolve, reject })
      if (queue.length !== 1) return
      if (!oneInFlight) setImmediate(() => void flush())
      else if (!flushing) next()
    })
  return Object.assign(persist, { waiting: () => queue.length > 0 })
}

async function inOrder<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (const item of items) results.push(await each(item))
  return results
}

/** Stores one message with its contact and conversation; null when the message was known. */
async function storeMessage(
  db: Sql,
  message: NormalizedMessage,
  deliveryRowId: number | null,
  at: number,
): Promise<number | null> {
  const known = await db.get('select id from messages where channel = ? and external_id = ?', [
    message.channel,
    message.externalId,
  ])
  if (known) return null

  const contactId = await upsertContact(db, message, at)
  const conversationId =
    (await threadConversation(db, message)) ??
    (await upsertConversation(db, message, contactId, at))
  // A sender's clock (an email's Date header) may say anything: a message never counts as
  // written after it arrived, so a future date cannot make it the latest of its conversation.
  const receivedAt = Date.parse(message.receivedAt)
  const sentAt = Math.min(Date.parse(message.sentAt), receivedAt)
  const inserted = await db.get<{ id: number }>(
    `insert into messages (channel, external_id, conversation_id, contact_id, delivery_id,
       direction, author_role, text, subject, language, attachments, automated, triage, meta,
       sent_at, received_at, raw_hash)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (channel, external_id) do nothing returning id`,
    [
      message.channel,
      message.externalId,
      conversationId,
      contactId,
      deliveryRowId,
      message.direction,
      message.authorRole,
      message.text,
      message.subject ?? null,
      message.language,
      JSON.stringify(message.attachments),
      message.automated,
      message.triage,
      JSON.stringify(message.meta),
      sentAt,
      receivedAt,
      message.rawHash,
    ],
  )
  // Stored meanwhile by another instance (the same message in two deliveries at once).
  if (!inserted) return null
  await touchConversation(db, conversationId, message, sentAt, at)
  return inserted.id
}

/**
 * The contact's id, created or given the details it lacked. A known contact whose details did
 * not change is only read: most messages come from someone the hub has seen, and rewriting
 * the row would rewrite its email and phone index entries too. (`updated_at` is when the
 * details last changed.)
 */
async function upsertContact(db: Sql, message: NormalizedMessage, at: number): Promise<number> {
  const { name, email, phone } = message.contact
  const known = await db.get<{
    id: number
    name: string | null
    email: string | null
    phone: string | null
  }>('select id, name, email, phone from contacts where channel = ? and external_id = ?', [
    message.channel,
    message.contactExternalId,
  ])
  const same = (given: string | null | undefined, stored: string | null) =>
    given == null || given === stored
  if (known && same(name, known.name) && same(email, known.email) && same(phone, known.phone))
    return known.id
  const row = await db.get<{ id: number }>(
    `insert into contacts (channel, external_id, name, email, phone, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?)
     on conflict (channel, external_id) do update set
       name = coalesce(excluded.name, contacts.name),
       email = coalesce(excluded.email, contacts.email),
       phone = coalesce(excluded.phone, contacts.phone),
       updated_at = excluded.updated_at
     returning id`,
    [
      message.channel,
      message.contactExternalId,
      name ?? null,
      email ?? null,
      phone ?? null,
      at,
      at,
    ],
  )
  return row!.id
}

/** The conversation of the first earlier message this one refers to, if the hub has it. */
async function threadConversation(db: Sql, message: NormalizedMessage): Promise<number | null> {
  const refs = message.threadRefs?.filter((ref) => ref.length > 0) ?? []
  if (refs.length === 0) return null
  const rows = await db.all<{ externalId: string; conversationId: number }>(
    `select external_id as "externalId", conversation_id as "conversationId" from messages
      where channel = ? and external_id in (${list(refs)})`,
    [message.channel, ...refs],
  )
  for (const ref of refs) {
    const hit = rows.find((row) => row.externalId === ref)
    if (hit) return hit.conversationId
  }
  return null
}

async function upsertConversation(
  db: Sql,
  message: NormalizedMessage,
  contactId: number,
  at: number,
): Promise<number> {
  // A known conversation is only read here: touchConversation stamps it for every message.
  const known = await db.get<{ id: number }>(
    'select id from conversations where channel = ? and external_id = ?',
    [message.channel, message.conversationExternalId],
  )
  if (known) return known.id
  const row = await db.get<{ id: number }>(
    `insert into conversations (channel, external_id, contact_id, language, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?)
     on conflict (channel, external_id) do update set updated_at = excluded.updated_at
     returning id`,
    [message.channel, message.conversationExternalId, contactId, message.language, at, at],
  )
  return row!.id
}

/** Stamps the conversation with the message: when it last moved, and who spoke last. */
async function touchConversation(
  db: Sql,
  conversationId: number,
  message: NormalizedMessage,
  sentAt: number,
  at: number,
): Promise<void> {
  if (message.direction === 'inbound') {
    await db.run(
      `update conversations set last_inbound_at = ${greatest(db, 'coalesce(last_inbound_at, 0)', '?')},
         updated_at = ? where id = ?`,
      [sentAt, at, conversationId],
    )
  } else if (message.authorRole === 'agent' || message.authorRole === 'operator') {
    await db.run(
      `update conversations set last_agent_reply_at = ${greatest(db, 'coalesce(last_agent_reply_at, 0)', '?')},
         updated_at = ? where id = ?`,
      [sentAt, at, conversationId],
    )
    // A person answered in the channel itself: the ticket's first response.
    const who =
      typeof message.meta.senderName === 'string'
        ? message.meta.senderName
        : `${message.channel} agent`
    await recordFirstResponse(db, conversationId, who, sentAt)
  } else {
    await db.run('update conversations set updated_at = ? where id = ?', [at, conversationId])
  }
}

async function applyEvent(
  db: Sql,
  event: ChannelEvent,
  at: number,
  context: FeedbackContext,
): Promise<void> {
  switch (event.type) {
    case 'conversation_status':
      await db.run(
        'update conversations set status = ?, updated_at = ? where channel = ? and external_id = ?',
        [event.status, at, event.channel, event.conversationExternalId],
      )
      return
    case 'delivery_status':
      await db.run('update messages set delivery_state = ? where channel = ? and external_id = ?', [
        event.status,
        event.channel,
        event.messageExternalId,
      ])
      // The channel confirms it has the message sent under this key: a send that may have
      // been cut short is not repeated (see the outbound executors).
      if (event.callbackKey) {
        await db.run(
          `insert into channel_state (key, value, updated_at) values (?, ?, ?)
           on conflict do nothing`,
          [sentKey(event.channel, event.callbackKey), event.messageExternalId, at],
        )
      }
      return
    case 'triage_feedback':
      await recordChannelFeedback(db, event, context, at)
      return
    default: {
      const unreachable: never = event
      throw new Error(`unknown channel event ${JSON.stringify(unreachable)}`)
    }
  }
}
