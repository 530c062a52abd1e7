import type Database from 'better-sqlite3'
import { afterEach, beforeEach } from 'vitest'
import type { ChannelEvent } from '../../src/contracts/message.js'
import type { FeedbackContext } from '../../src/learning/channel-feedback.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from '../../src/store/db.js'
import { persistDelivery } from '../../src/store/ingest-store.js'
import type { Sql } from '../../src/store/sql.js'
import { tempDir } from './hub.js'
import { storedDelivery } from './stored-delivery.js'

let serial = 0

/** The store of a test, and its SQLite connection for reading straight from it. */
export type TestDb = Sql & { $client: Database.Database }

/** A database of its own for each test of the file (opened before, closed and removed after). */
export function tempDatabases(): () => TestDb {
  let db: Db | null = null
  let temp: ReturnType<typeof tempDir> | null = null
  beforeEach(() => {
    temp = tempDir()
    db = openDatabase(`${temp.dir}/hub.db`)
  })
  afterEach(() => {
    if (db) closeDatabase(db)
    temp?.cleanup()
  })
  return () => ({ ...sqlOf(db!), $client: db!.$client })
}

/**
 * A customer's message in Chatwoot conversation `conversation` with a decision on it, as the
 * triage worker stores them (only the columns learning reads are set to anything particular).
 */
export async function decidedMessage(
  db: Sql,
  text: string,
  decision: {
    intent: string
    signals?: string[]
    level?: string | null
    queue?: string | null
    priority?: string
    conversation?: string
  },
): Promise<{ messageId: number; decisionId: number; conversationId: number }> {
  const n = ++serial
  const delivery = storedDelivery(`decided-${n}-${Date.now()}`, `1:${100_000 + n}`, text)
  const message = {
    ...delivery.messages[0]!,
    conversationExternalId: decision.conversation ?? `1:${n}`,
  }
  const stored = await persistDelivery(db, { ...delivery, messages: [message] }, new Date())
  if (stored.outcome !== 'stored') throw new Error('not stored')
  const messageId = stored.messageIds[0]!
  const { conversation_id: conversationId } = (await db.get<{ conversation_id: number }>(
    'select conversation_id from messages where id = ?',
    [messageId],
  ))!
  const { id } = (await db.get<{ id: number }>(
    `insert into triage_decisions (message_id, conversation_id, intent, confidence, priority,
       level, signals, language, queue, needs_human, explanation, rulebook_version, created_at)
     values (?, ?, ?, 0.9, ?, ?, ?, 'es', ?, 0, '{"hits":[]}', 'test', ?) returning id`,
    [
      messageId,
      conversationId,
      decision.intent,
      decision.priority ?? 'media',
      decision.level ?? null,
      JSON.stringify(decision.signals ?? []),
      decision.queue ?? null,
      Date.now(),
    ],
  ))!
  return { messageId, decisionId: id, conversationId }
}

/** Applies channel events as a delivery of their own (as a webhook would). */
export function applyEvents(db: Sql, events: ChannelEvent[], context?: FeedbackContext) {
  const n = ++serial
  return persistDelivery(
    db,
    {
      channel: 'chatwoot',
      deliveryId: `events-${n}-${Date.now()}`,
      rawHash: `e${n}`,
      events,
      messages: [],
    },
    new Date(),
    context,
  )
}
