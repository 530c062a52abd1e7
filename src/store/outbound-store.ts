import { randomBytes } from 'node:crypto'
import type { OutboundRecord, OutboundStore } from '../contracts/channel.js'
import type { Clock } from '../kit/clock.js'
import { sentKey } from './ingest-store.js'
import { jsonMerge, type Sql } from './sql.js'

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
export function outboundStore(db: Sql, clock: Clock): OutboundStore {
  return {
    async recordOutbound(message: OutboundRecord) {
      const conversation = await db.get<{ contactId: number }>(
        'select contact_id as "contactId" from conversations where id = ?',
        [message.conversationId],
      )
      if (!conversation) return
      const at = clock.now().getTime()
      await db.run(
        `insert into messages (channel, external_id, conversation_id, contact_id, direction,
           author_role, text, subject, language, attachments, automated, triage, meta,
           delivery_state, sent_at, received_at, raw_hash)
         values (?, ?, ?, ?, 'outbound', ?, ?, ?, null, '[]', ?, ?, ?, 'sent', ?, ?, ?)
         on conflict do nothing`,
        [
          message.channel,
          message.externalId,
          message.conversationId,
          conversation.contactId,
          message.authorRole,
          message.text,
          message.subject ?? null,
          message.automated,
          false,
          JSON.stringify(message.meta),
          at,
          at,
          '0'.repeat(64),
        ],
      )
    },
    async hasMessage(channel, externalId) {
      const row = await db.get('select id from messages where channel = ? and external_id = ?', [
        channel,
        externalId,
      ])
      return row !== undefined
    },
    async conversationMeta(conversationId) {
      const row = await db.get<{ meta: string }>('select meta from conversations where id = ?', [
        conversationId,
      ])
      return parseObject(row?.meta)
    },
    async sentWith(channel, effectKey) {
      const row = await db.get<{ value: string }>('select value from channel_state where key = ?', [
        sentKey(channel, effectKey),
      ])
      return row?.value ?? null
    },
    async recordSent(channel, effectKey, externalId) {
      await db.run(
        'insert into channel_state (key, value, updated_at) values (?, ?, ?) on conflict do nothing',
        [sentKey(channel, effectKey), externalId, clock.now().getTime()],
      )
    },
    async mergeConversationMeta(conversationId, patch) {
      await db.run(
        `update conversations set meta = ${jsonMerge(db, 'meta')}, updated_at = ? where id = ?`,
        [JSON.stringify(patch), clock.now().getTime(), conversationId],
      )
    },
  }
}

/**
 * A random secret kept in the database under `name`, made on first use. Whoever writes it
 * first wins; every later caller, in this process or another sharing the database, reads that.
 */
export async function hubSecret(db: Sql, clock: Clock, name: string): Promise<Buffer> {
  const key = `secret:${name}`
  await db.run(
    'insert into channel_state (key, value, updated_at) values (?, ?, ?) on conflict do nothing',
    [key, randomBytes(32).toString('base64'), clock.now().getTime()],
  )
  const row = await db.get<{ value: string }>('select value from channel_state where key = ?', [
    key,
  ])
  return Buffer.from(row!.value, 'base64')
}

/** Key/value state for inbound sources (IMAP positions) and executors (round-robin turns). */
export function sourceState(db: Sql, clock: Clock) {
  return {
    async get(key: string): Promise<string | null> {
      const row = await db.get<{ value: string }>('select value from channel_state where key = ?', [
        key,
      ])
      return row?.value ?? null
    },
    async set(key: string, value: string): Promise<void> {
      const at = clock.now().getTime()
      await db.run(
        `insert into channel_state (key, value, updated_at) values (?, ?, ?)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        [key, value, at],
      )
    },
  }
}
