import { randomBytes } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import type { OutboundRecord, OutboundStore } from '../contracts/channel.js'
import type { Clock } from '../kit/clock.js'
import type { Db } from './db.js'
import { sentKey } from './ingest-store.js'
import { channelState, conversations, messages } from './schema.js'

function parseObject(json: string | undefined): Record<string, unknown> {
  if (!json) return {}
  try {
    const value = JSON.parse(json)
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
  } catch {
    return {}
  }
}

/** The store as outbound executors and inbound sources see it. */
export function outboundStore(db: Db, clock: Clock): OutboundStore {
  return {
    recordOutbound(message: OutboundRecord) {
      const conversation = db
        .select({ contactId: conversations.contactId })
        .from(conversations)
        .where(eq(conversations.id, message.conversationId))
        .get()
      if (!conversation) return
      const at = clock.now().getTime()
      db.insert(messages)
        .values({
          channel: message.channel,
          externalId: message.externalId,
          conversationId: message.conversationId,
          contactId: conversation.contactId,
          direction: 'outbound',
          authorRole: message.authorRole,
          text: message.text,
          subject: message.subject ?? null,
          language: null,
          attachments: '[]',
          automated: message.automated,
          triage: false,
          meta: JSON.stringify(message.meta),
          deliveryState: 'sent',
          sentAt: at,
          receivedAt: at,
          rawHash: '0'.repeat(64),
        })
        .onConflictDoNothing()
        .run()
    },
    hasMessage(channel, externalId) {
      return (
        db
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.channel, channel), eq(messages.externalId, externalId)))
          .get() !== undefined
      )
    },
    conversationMeta(conversationId) {
      const row = db
        .select({ meta: conversations.meta })
        .from(conversations)
        .where(eq(conversations.id, conversationId))
        .get()
      return parseObject(row?.meta)
    },
    sentWith(channel, effectKey) {
      return (
        db
          .select({ value: channelState.value })
          .from(channelState)
          .where(eq(channelState.key, sentKey(channel, effectKey)))
          .get()?.value ?? null
      )
    },
    recordSent(channel, effectKey, externalId) {
      db.insert(channelState)
        .values({
          key: sentKey(channel, effectKey),
          value: externalId,
          updatedAt: clock.now().getTime(),
        })
        .onConflictDoNothing()
        .run()
    },
    mergeConversationMeta(conversationId, patch) {
      db.update(conversations)
        .set({
          meta: sql`json_patch(${conversations.meta}, ${JSON.stringify(patch)})`,
          updatedAt: clock.now().getTime(),
        })
        .where(eq(conversations.id, conversationId))
        .run()
    },
  }
}

/**
 * A random secret kept in the database under `name`, made on first use. Whoever writes it
 * first wins; every later caller, in this process or another sharing the database, reads that.
 */
export function hubSecret(db: Db, clock: Clock, name: string): Buffer {
  const key = `secret:${name}`
  db.insert(channelState)
    .values({ key, value: randomBytes(32).toString('base64'), updatedAt: clock.now().getTime() })
    .onConflictDoNothing()
    .run()
  const row = db
    .select({ value: channelState.value })
    .from(channelState)
    .where(eq(channelState.key, key))
    .get()!
  return Buffer.from(row.value, 'base64')
}

/** Key/value state for inbound sources (IMAP positions). */
export function sourceState(db: Db, clock: Clock) {
  return {
    get(key: string): string | null {
      return (
        db
          .select({ value: channelState.value })
          .from(channelState)
          .where(eq(channelState.key, key))
          .get()?.value ?? null
      )
    },
    set(key: string, value: string): void {
      const at = clock.now().getTime()
      db.insert(channelState)
        .values({ key, value, updatedAt: at })
        .onConflictDoUpdate({ target: channelState.key, set: { value, updatedAt: at } })
        .run()
    },
  }
}
