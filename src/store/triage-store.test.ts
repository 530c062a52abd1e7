import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { someDecision } from '../../test/helpers/decision.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import type { Decision } from '../triage/triage.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { messages } from './schema.js'
import type { Sql } from './sql.js'
import { loadUndecided } from './triage-reads.js'
import { insertDecision } from './triage-store.js'

describe('loadUndecided', () => {
  let db: Db
  let sql: Sql
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
  })
  afterEach(() => closeDatabase(db))

  /** Stores a message of the one conversation and its decision at `priority`, at time `at`. */
  const decided = async (n: number, priority: Decision['priority'], at: number) => {
    const message = await stored(n, at)
    await insertDecision(
      sql,
      { messageId: message.id, conversationId: message.conversationId },
      someDecision({ intent: 'complaint', priority }),
      'test',
      new Date(at),
    )
    return message
  }
  const stored = async (n: number, at: number) => {
    await persistDelivery(sql, storedDelivery(`d${n}`, `m${n}`), new Date(at))
    return db.select().from(messages).all().at(-1)!
  }
  /** The conversation's case, opened at `openedAt` with `priority` (and `status`). */
  const caseOf = async (
    conversationId: number,
    openedAt: number,
    priority: string,
    status = 'abierto',
  ) => {
    await sql.run('delete from tickets')
    await sql.run(
      `insert into tickets (conversation_id, type, priority, queue, status, number, created_at,
         updated_at) values (?, 'reclamo', ?, 'atencion', ?, 'TK-1', ?, ?)`,
      [conversationId, priority, status, openedAt, openedAt],
    )
  }

  it('reads the message with the open case and whether a message since was more urgent', async () => {
    await decided(1, 'critica', 1_000) // before the case opened: does not count
    await decided(2, 'baja', 2_000)
    await decided(3, 'alta', 3_000)
    const last = await decided(4, 'media', 4_000)
    const next = await stored(5, 5_000)
    const moreUrgent = async (openedAt: number, priority: string) => {
      await caseOf(last.conversationId, openedAt, priority)
      const found = await loadUndecided(sql, next.id)
      expect(found?.subject.message.id).toBe(next.id)
      expect(found?.openCase?.ticket).toMatchObject({ number: 'TK-1', priority })
      return found?.openCase?.moreUrgent
    }
    expect(await moreUrgent(2_000, 'media')).toBe('alta')
    expect(await moreUrgent(2_000, 'baja')).toBe('alta')
    expect(await moreUrgent(2_000, 'alta')).toBeNull()
    expect(await moreUrgent(1_000, 'media')).toBe('critica')
    expect(await moreUrgent(3_500, 'baja')).toBe('media')
    // A closed case is no open case; a decided message is not read again.
    await caseOf(last.conversationId, 0, 'baja', 'resuelto')
    expect((await loadUndecided(sql, next.id))?.openCase).toBeNull()
    expect(await loadUndecided(sql, last.id)).toBeNull()
  })
})
