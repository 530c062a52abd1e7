import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, openDatabase, sqlOf } from './db.js'
import { persistAtOnce } from './ingest-at-once.js'
import { persistTogether } from './ingest-batch.js'
import { type Delivery, groupCommit, type PersistResult, persistDelivery } from './ingest-store.js'
import { turnKey, waitForTurn } from './one-at-a-time.js'
import { migratePostgres, openPostgres } from './postgres.js'
import type { Sql } from './sql.js'

// PostgreSQL stores a group commit's batch in a few statements for all of it
// (`ingest-batch.ts`); what it leaves must be what storing the deliveries one after another
// leaves, as SQLite does.

type Shape = { conversation?: string; contact?: string; details?: Record<string, string> }

function delivery(id: string, messageId: string, shape: Shape = {}, at = 1_000): Delivery {
  const d = storedDelivery(id, messageId, `texto ${messageId}`)
  Object.assign(d.messages[0]!, {
    conversationExternalId: shape.conversation ?? '1:10',
    contactExternalId: shape.contact ?? '1:40',
    contact: shape.details ?? {},
    sentAt: new Date(at).toISOString(),
    receivedAt: new Date(at + 5).toISOString(),
  })
  return d
}

const agentAnswer = (id: string, messageId: string): Delivery => {
  const d = delivery(id, messageId, {}, 1_500)
  Object.assign(d.messages[0]!, { direction: 'outbound', authorRole: 'agent' })
  return d
}

/** Before the batch: one message of Ana's, whose details are then changed and kept. */
const BEFORE = [delivery('d0', 'm0', { details: { name: 'Ana' } })]

const BATCH: Delivery[] = [
  delivery('d1', 'm1', { details: { email: 'ana@example.com' } }, 2_000),
  delivery('d1', 'm1', {}, 2_000), // the same delivery twice
  delivery('d2', 'm0'), // a message stored before, in a new delivery
  delivery('d3', 'm3', { conversation: '1:11', contact: '1:41', details: { name: 'Luis' } }),
  agentAnswer('d4', 'm4'), // goes the one-at-a-time way, in its place
  delivery('d5', 'm5', { conversation: '1:11', contact: '1:41' }, 3_000),
  delivery('d6', 'm3', { conversation: '1:11', contact: '1:41' }), // m3 again
  delivery('d7', 'm7', { details: { name: 'Ana María' } }, 4_000),
  delivery('d8', 'm8', { details: { name: 'Ana María' } }, 5_000),
]

async function state(sql: Sql) {
  return {
    messages: await sql.all(
      `select m.external_id, c.external_id as conversation, k.external_id as contact,
              d.delivery_id, m.direction, m.triage, m.sent_at, m.received_at
         from messages m join conversations c on c.id = m.conversation_id
         join contacts k on k.id = m.contact_id
         left join webhook_deliveries d on d.id = m.delivery_id order by m.id`,
    ),
    contacts: await sql.all(
      'select external_id, name, email, phone, created_at, updated_at from contacts order by id',
    ),
    conversations: await sql.all(
      `select c.external_id, k.external_id as contact, c.last_inbound_at, c.last_agent_reply_at,
              c.updated_at from conversations c join contacts k on k.id = c.contact_id
        order by c.id`,
    ),
    deliveries: await sql.all(
      'select delivery_id, message_count, received_at from webhook_deliveries order by id',
    ),
  }
}

/** The advisory locks (turns) this transaction holds. */
async function heldTurns(tx: Sql): Promise<number[]> {
  const rows = await tx.all<{ key: number }>(
    `select objid::bigint as key from pg_locks
      where locktype = 'advisory' and pid = pg_backend_pid() and granted`,
  )
  return rows.map((r) => Number(r.key))
}

/** When the batch's `i`th delivery arrived. */
const arrival = (i: number) => new Date(10_000 + i)

/** Results without the ids, which differ between the engines' runs only if the order does. */
const shape = (results: unknown[]) => JSON.parse(JSON.stringify(results))

describeWithService('postgres', 'a batch stored at once on PostgreSQL', () => {
  const postgres = postgresForSuite()

  it('leaves what storing its deliveries one after another leaves', async () => {
    const sqlite = openDatabase(':memory:')
    const one = sqlOf(sqlite)
    for (const d of BEFORE) await persistDelivery(one, d, new Date(1_000))
    const expected: unknown[] = []
    for (const [i, d] of BATCH.entries()) expected.push(await persistDelivery(one, d, arrival(i)))
    const onSqlite = await state(one)
    closeDatabase(sqlite)

    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      for (const d of BEFORE) await persistDelivery(pg.sql, d, new Date(1_000))
      // Stored together, with no second try one at a time to hide a failure.
      const { results, turn } = await pg.sql.transaction(async (tx) => ({
        results: await persistTogether(
          tx,
          BATCH.map((d, i) => ({ delivery: d, now: arrival(i) })),
          (own, item) => persistDelivery(own, item.delivery, item.now, undefined, true),
        ),
        turn: await heldTurns(tx),
      }))
      expect(shape(results)).toEqual(shape(expected))
      // It held the storing turn (message ids become visible in order across instances).
      expect(turn).toEqual([turnKey('storing')])
      expect(await state(pg.sql)).toEqual(onSqlite)
      // And the run did what it says: duplicates found, Ana's details last changed by d7.
      expect(results.map((r) => r.outcome)).toEqual([
        'stored',
        'duplicate',
        'stored',
        'stored',
        'stored',
        'stored',
        'stored',
        'stored',
        'stored',
      ])
      expect(results[2]).toMatchObject({ messageIds: [], duplicateMessages: 1 })
      expect(onSqlite.contacts).toEqual([
        expect.objectContaining({
          name: 'Ana María',
          email: 'ana@example.com',
          created_at: 1_000,
          updated_at: arrival(7).getTime(),
        }),
        expect.objectContaining({ name: 'Luis', created_at: arrival(3).getTime() }),
      ])
      expect(onSqlite.messages.map((m) => m.external_id)).toEqual([
        'm0',
        'm1',
        'm3',
        'm4',
        'm5',
        'm7',
        'm8',
      ])
    } finally {
      await pg.close()
    }
  })

  it('takes the storing turn before a delivery stored the one-at-a-time way', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      const turn = await pg.sql.transaction(async (tx) => {
        await persistTogether(
          tx,
          [{ delivery: agentAnswer('a1', 'm1'), now: arrival(0) }],
          (own, item) => persistDelivery(own, item.delivery, item.now, undefined, true),
        )
        return heldTurns(tx)
      })
      expect(turn).toEqual([turnKey('storing')])
    } finally {
      await pg.close()
    }
  })

  it('stores the rest of a batch when one delivery in it cannot be stored', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      const persist = groupCommit(pg.sql)
      const broken = delivery('bad', '1:9')
      // A message without a conversation id cannot be stored (NOT NULL).
      ;(broken.messages[0] as { conversationExternalId: string | null }).conversationExternalId =
        null
      const [good, bad, other] = await Promise.allSettled([
        persist(delivery('x', '1:7'), new Date(1_000)),
        persist(broken, new Date(1_000)),
        persist(delivery('y', '1:8'), new Date(1_000)),
      ])
      expect([good.status, bad.status, other.status]).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ])
      const stored = await state(pg.sql)
      expect(stored.messages.map((m) => m.external_id)).toEqual(['1:7', '1:8'])
      expect(stored.deliveries.map((d) => d.delivery_id)).toEqual(['x', 'y'])
    } finally {
      await pg.close()
    }
  })
})

describeWithService('postgres', 'the usual batch stored in one statement on PostgreSQL', () => {
  const postgres = postgresForSuite()

  /** Before: Ana's message in 1:10 and Luis's in 1:11, and a delivery of Luis's kept. */
  const KNOWN = [
    delivery('d0', 'm0', { details: { name: 'Ana', email: 'ana@example.com' } }),
    delivery('e0', 'n0', { conversation: '1:11', contact: '1:41', details: { name: 'Luis' } }),
  ]
  const noId = (messageId: string): Delivery => ({ ...delivery('', messageId), deliveryId: null })
  const USUAL: Delivery[] = [
    delivery('d1', 'm1', { details: { name: 'Ana' } }, 2_000), // what Ana's contact says
    delivery('d1', 'm1', {}, 2_000), // the same delivery twice
    delivery('d2', 'm0'), // a message stored before, in a new delivery
    // A delivery stored before, with a message that a later new delivery brings again.
    delivery('e0', 'm9', { conversation: '1:11', contact: '1:41' }),
    delivery('d3', 'm3', { conversation: '1:11', contact: '1:41' }, 3_000),
    delivery('d4', 'm9', { conversation: '1:11', contact: '1:41' }, 2_500),
    delivery('d5', 'm3'), // m3 again
    noId('m6'),
  ]

  /** Stores `before`, then `batch` one delivery after another on SQLite: results and state. */
  async function onSqlite(before: Delivery[], batch: Delivery[]) {
    const sqlite = openDatabase(':memory:')
    try {
      const one = sqlOf(sqlite)
      for (const d of before) await persistDelivery(one, d, new Date(1_000))
      const results: unknown[] = []
      for (const [i, d] of batch.entries()) results.push(await persistDelivery(one, d, arrival(i)))
      return { results, state: await state(one) }
    } finally {
      closeDatabase(sqlite)
    }
  }

  async function withKnown<T>(body: (sql: Sql) => Promise<T>): Promise<T> {
    const pg = openPostgres(postgres.database(), { max: 3 })
    try {
      await migratePostgres(pg.sql)
      for (const d of KNOWN) await persistDelivery(pg.sql, d, new Date(1_000))
      return await body(pg.sql)
    } finally {
      await pg.close()
    }
  }

  /** The results with each message id replaced by its rank among them. */
  const ranked = (results: PersistResult[]) => {
    const ids = results.flatMap((r) => (r.outcome === 'stored' ? r.messageIds : []))
    const rank = (id: number) => ids.filter((other) => other < id).length
    return results.map((r) =>
      r.outcome === 'stored' ? { ...r, messageIds: r.messageIds.map(rank) } : r,
    )
  }

  const stored = (batch: Delivery[]) => batch.map((d, i) => ({ delivery: d, now: arrival(i) }))

  it('leaves what storing its deliveries one after another leaves', async () => {
    const expected = await onSqlite(KNOWN, USUAL)
    await withKnown(async (sql) => {
      const results = await persistAtOnce(sql, stored(USUAL))
      expect(results).not.toBeNull()
      // (A message the store had may use up an id on PostgreSQL: ids compare by their order.)
      expect(ranked(results!)).toEqual(ranked(expected.results as PersistResult[]))
      expect(await state(sql)).toEqual(expected.state)
      expect(results!.map((r) => r.outcome)).toEqual([
        'stored',
        'duplicate',
        'stored',
        'duplicate',
        'stored',
        'stored',
        'stored',
        'stored',
      ])
      // m9 came first in a duplicate delivery: it is stored with the next one that brings it.
      expect(results![5]).toMatchObject({ messageIds: [expect.any(Number)], triageJobs: 1 })
      expect(expected.state.messages.map((m) => m.external_id)).toEqual([
        'm0',
        'n0',
        'm1',
        'm3',
        'm9',
        'm6',
      ])
    })
  })

  it('writes nothing and leaves the batch to the other way when it would change a person or add one', async () => {
    await withKnown(async (sql) => {
      const before = await state(sql)
      const newPhone = [
        delivery('d1', 'm1'),
        delivery('d2', 'm2', { details: { phone: '+34 600' } }),
      ]
      const newContact = [delivery('d3', 'm3', { contact: '1:42', conversation: '1:12' })]
      const newConversation = [delivery('d4', 'm4', { conversation: '1:12' })]
      for (const batch of [newPhone, newContact, newConversation])
        expect(await persistAtOnce(sql, stored(batch))).toBeNull()
      expect(await state(sql)).toEqual(before)
      // The group commit stores them all the same, as storing them one by one does.
      const expected = await onSqlite(KNOWN, newPhone)
      const persist = groupCommit(sql)
      const results = await Promise.all(newPhone.map((d, i) => persist(d, arrival(i))))
      expect(shape(results)).toEqual(shape(expected.results))
      expect(await state(sql)).toEqual(expected.state)
    })
  })

  it('creates the people and conversations a batch brings first, then stores it the usual way', async () => {
    const NEWCOMERS: Delivery[] = [
      // Eva, new, in a new conversation; her next message, in a second new one.
      delivery('d1', 'm1', { contact: '1:42', conversation: '1:12', details: { name: 'Eva' } }),
      delivery('d2', 'm2', { contact: '1:42', conversation: '1:13' }, 2_000),
      // Ana, known, in a new conversation.
      delivery('d3', 'm3', { conversation: '1:14' }),
      // Then, in a second batch, stored the other way (after Pablo is created): Pablo, new,
      // whose two messages give his details in turn, and a delivery the store had, now
      // bringing someone new, who is not created.
      delivery('d5', 'm5', { contact: '1:44', conversation: '1:16', details: { name: 'Pablo' } }),
      delivery('d6', 'm6', { contact: '1:44', conversation: '1:16', details: { phone: '+34 61' } }),
      delivery('d0', 'm4', { contact: '1:43', conversation: '1:15', details: { name: 'Zoe' } }),
    ]
    // The same deliveries one after another on SQLite; here together, in one group commit.
    for (const [batch, transactions] of [
      [NEWCOMERS.slice(0, 3), 0],
      [NEWCOMERS.slice(3), 1],
    ] as const) {
      const expected = await onSqlite(KNOWN, [...batch])
      await withKnown(async (sql) => {
        let opened = 0
        const counted: Sql = {
          ...sql,
          transaction: ((body, how) => {
            opened++
            return sql.transaction(body, how)
          }) as Sql['transaction'],
        }
        const persist = groupCommit(counted)
        const results = await Promise.all(batch.map((d, i) => persist(d, arrival(i))))
        expect(shape(results)).toEqual(shape(expected.results))
        expect(await state(sql)).toEqual(expected.state)
        // No transaction: the storing turn was held for one statement.
        expect(opened).toBe(transactions)
      })
    }
  })

  it('waits for the storing turn before it writes', async () => {
    await withKnown(async (sql) => {
      let release!: () => void
      const released = new Promise<void>((r) => {
        release = r
      })
      let held!: () => void
      const holding = new Promise<void>((r) => {
        held = r
      })
      // Another instance's transaction holds the turn.
      const other = sql.transaction(async (tx) => {
        await tx.get(`select ${waitForTurn}`, [turnKey('storing')])
        held()
        await released
      })
      await holding
      const storing = persistAtOnce(sql, stored([delivery('d1', 'm1')]))
      // Until the statement is seen waiting for the lock.
      for (;;) {
        const waiting = await sql.get<{ n: number }>(
          `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and not granted
              and database = (select oid from pg_database where datname = current_database())`,
        )
        if (waiting?.n === 1) break
        await new Promise((r) => setTimeout(r, 10))
      }
      expect((await state(sql)).deliveries.map((d) => d.delivery_id)).toEqual(['d0', 'e0'])
      release()
      await other
      expect(await storing).toEqual([expect.objectContaining({ outcome: 'stored' })])
      expect((await state(sql)).messages.map((m) => m.external_id)).toEqual(['m0', 'n0', 'm1'])
    })
  })
})
