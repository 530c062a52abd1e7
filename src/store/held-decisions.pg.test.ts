import { expect, it } from 'vitest'
import { someDecision } from '../../test/helpers/decision.js'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storeOneMessage } from '../../test/helpers/stored-delivery.js'
import type { Decision } from '../triage/triage.js'
import { closeDatabase, openDatabase, sqlOf } from './db.js'
import { migratePostgres, openPostgres } from './postgres.js'
import type { Sql } from './sql.js'
import { decisionsAtOnce, heldDecisions, loadTriageSubject } from './triage-store.js'

// A triage slice on PostgreSQL holds its decisions and writes them together. A complaint's
// count of the person's recent complaints must see the held ones, and writes them in the same
// statement; SQLite writes each decision as it is made, and counts after.

const NOW = new Date('2026-11-20T15:00:00Z')

const decision = (intent: Decision['intent']) => someDecision({ intent })

/**
 * Ana writes from two contacts (the same email), Pablo from a third. Her first complaint and
 * Pablo's are decided, then her second message counts her complaints: what it counted, the
 * statements the slice sent, and the decisions stored once its last ones are written.
 */
async function aSlice(sql: Sql) {
  const ana = { name: 'Ana', email: 'ana@example.com' }
  const first = await storeOneMessage(
    sql,
    'd1',
    { conversation: '1:10', contact: '1:41', details: ana },
    NOW,
  )
  const pablo = await storeOneMessage(sql, 'd2', { conversation: '1:11', contact: '1:42' }, NOW)
  const second = await storeOneMessage(
    sql,
    'd3',
    { conversation: '1:12', contact: '1:43', details: ana },
    NOW,
  )
  const statements: string[] = []
  const counted = await sql.transaction(async (tx) => {
    const watched: Sql = {
      ...tx,
      get: ((text, params) => {
        statements.push(text)
        return tx.get(text, params)
      }) as Sql['get'],
      run: ((text, params) => {
        statements.push(text)
        return tx.run(text, params)
      }) as Sql['run'],
    }
    const decisions = tx.dialect === 'postgres' ? heldDecisions() : decisionsAtOnce
    for (const [id, intent] of [
      [first, 'complaint'],
      [pablo, 'complaint'],
    ] as const) {
      const subject = (await loadTriageSubject(tx, id))!
      await decisions.record(watched, {
        messageId: id,
        conversationId: subject.conversation.id,
        decision: decision(intent),
        rulebookVersion: 'test',
        now: NOW,
      })
    }
    const subject = (await loadTriageSubject(tx, second))!
    const complaints = await decisions.countComplaints(watched, subject.contact, 0)
    await decisions.record(watched, {
      messageId: second,
      conversationId: subject.conversation.id,
      decision: decision('complaint'),
      rulebookVersion: 'test',
      now: NOW,
    })
    await decisions.flush(watched)
    return complaints
  })
  const stored = await sql.all<{ id: number }>(
    'select message_id as id from triage_decisions order by message_id',
  )
  return {
    counted,
    statements,
    stored: stored.map((r) => Number(r.id)),
    ids: [first, pablo, second],
  }
}

describeWithService('postgres', 'decisions held by a triage slice', () => {
  const postgres = postgresForSuite()

  it("counts a person's held complaints, writing them in the same statement", async () => {
    const sqlite = openDatabase(':memory:')
    const onSqlite = await aSlice(sqlOf(sqlite))
    closeDatabase(sqlite)
    const store = openPostgres(postgres.database())
    try {
      await migratePostgres(store.sql)
      const onPostgres = await aSlice(store.sql)
      // Her first complaint, on her other contact; not Pablo's. Every decision stored once.
      expect(onSqlite.counted).toBe(1)
      expect(onPostgres.counted).toBe(1)
      expect(onPostgres.stored).toEqual(onPostgres.ids)
      expect(onSqlite.stored).toEqual(onSqlite.ids)
      // Held: the two decisions went with the count, the last one with the final write.
      expect(onPostgres.statements).toHaveLength(2)
      expect(onSqlite.statements).toHaveLength(4)
    } finally {
      await store.close()
    }
  })
})
