import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import type { Decision } from '../triage/triage.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { messages } from './schema.js'
import type { Sql } from './sql.js'
import { insertDecision, moreUrgentSince } from './triage-store.js'

describe('moreUrgentSince', () => {
  let db: Db
  let sql: Sql
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
  })
  afterEach(() => closeDatabase(db))

  /** Stores a message of the one conversation and its decision at `priority`, at time `at`. */
  const decided = async (n: number, priority: Decision['priority'], at: number) => {
    await persistDelivery(sql, storedDelivery(`d${n}`, `m${n}`), new Date(at))
    const message = db.select().from(messages).all().at(-1)!
    await insertDecision(
      sql,
      { messageId: message.id, conversationId: message.conversationId },
      {
        intent: 'complaint',
        confidence: 1,
        priority,
        level: null,
        signals: [],
        amount: null,
        language: 'es',
        queue: 'atencion',
        needsHuman: false,
        ticket: null,
        reply: null,
        explanation: {},
      } as unknown as Decision,
      'test',
      new Date(at),
    )
    return message.conversationId
  }

  it('finds the most urgent priority since a time, only when more urgent than the case', async () => {
    await decided(1, 'critica', 1_000) // before the case opened: does not count
    await decided(2, 'baja', 2_000)
    await decided(3, 'alta', 3_000)
    const conversation = await decided(4, 'media', 4_000)
    expect(await moreUrgentSince(sql, conversation, 2_000, 'media')).toBe('alta')
    expect(await moreUrgentSince(sql, conversation, 2_000, 'baja')).toBe('alta')
    expect(await moreUrgentSince(sql, conversation, 2_000, 'alta')).toBeNull()
    expect(await moreUrgentSince(sql, conversation, 1_000, 'media')).toBe('critica')
    expect(await moreUrgentSince(sql, conversation, 3_500, 'baja')).toBe('media')
    expect(await moreUrgentSince(sql, conversation + 1, 0, 'baja')).toBeNull()
  })
})
