import { expect, it } from 'vitest'
import { someDecision } from '../../test/helpers/decision.js'
import { holdTransaction } from '../../test/helpers/hold.js'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storeOneMessage } from '../../test/helpers/stored-delivery.js'
import { migratePostgres, openPostgres } from './postgres.js'
import type { Sql } from './sql.js'
import { TRIAGE_PARTS } from './triage-parts.js'
import { claimTriagePart, triageBacklog, triageQueueSlice } from './triage-queue.js'
import { heldDecisions } from './triage-store.js'

// On PostgreSQL the triage queue is in parts, one per `conversation_id % 8`: slices claim
// parts, so that several triage side by side (on one instance or several) while each
// conversation's messages are still triaged one after another.

const NOW = new Date('2026-11-21T12:00:00Z')

/** A message of conversation `conversation` (external id), stored; its id. */
const store = (sql: Sql, delivery: string, conversation: string) =>
  storeOneMessage(sql, delivery, { conversation, contact: conversation }, NOW)

describeWithService('postgres', 'the triage queue in parts', () => {
  const postgres = postgresForSuite()

  it('lets each part be claimed by one slice at a time, and only a part with work', async () => {
    const pg = openPostgres(postgres.database(), { max: 6 })
    const claims: ReturnType<typeof holdTransaction>[] = []
    try {
      await migratePostgres(pg.sql)
      // Three conversations: their ids are 1, 2 and 3, so parts 1, 2 and 3 have work.
      const ids = {
        one: await store(pg.sql, 'a', '1:1'),
        two: await store(pg.sql, 'b', '1:2'),
        three: await store(pg.sql, 'c', '1:3'),
        twoAgain: await store(pg.sql, 'd', '1:2'),
      }
      const conversations = await pg.sql.all<{ id: number }>(
        'select conversation_id as id from messages order by id',
      )
      const partOf = conversations.map(({ id }) => Number(id) % TRIAGE_PARTS)
      expect(new Set(partOf).size).toBe(3)

      // Claims from part 0 on: part 0 has no work, so the first goes to the first part that
      // has; the second, while the first is held, to the next one; and so on.
      const claimed: (number | null)[] = []
      for (let i = 0; i < 4; i++) {
        const claim = holdTransaction(pg.sql, (tx) => claimTriagePart(tx, NOW, 0))
        claims.push(claim)
        claimed.push((await claim.result)?.part ?? null)
      }
      expect(claimed.slice(0, 3).sort()).toEqual([...new Set(partOf)].sort())
      // Every part with work is held: the fourth finds none.
      expect(claimed[3]).toBeNull()
      for (const claim of claims) claim.release()
      await Promise.all(claims.map((claim) => claim.done))

      // A slice of conversation two's part reads its two messages, in order, and no other.
      const twoPart = partOf[1]!
      const read = await pg.sql.transaction(async (tx) => {
        const part = await claimTriagePart(tx, NOW, twoPart)
        expect(part?.part).toBe(twoPart)
        const queue = await triageQueueSlice(tx, NOW, part!)
        const due = (await queue.next(8)).map((item) => item.messageId)
        for (const item of await queue.next(8)) due.push(item.messageId)
        return due
      })
      expect(read).toEqual([ids.two, ids.twoAgain])
    } finally {
      for (const claim of claims) claim.release()
      await pg.close()
    }
  }, 60_000)

  it('hands each message to one slice, however claims and commits interleave', async () => {
    // A claim reads the part's cursor and its messages as its statement began, and takes the
    // part's lock later in the same statement: a slice that committed the part in between has
    // moved the cursor past messages this claim still sees as new. Lanes that claim one part
    // in a tight loop, a message a slice, meet that often.
    const pg = openPostgres(postgres.database(), { max: 4 })
    try {
      await migratePostgres(pg.sql)
      const ids: number[] = []
      for (let i = 0; i < 150; i++) ids.push(await store(pg.sql, `m${i}`, '1:1'))
      const handed: number[] = []
      const deadline = Date.now() + 20_000
      const lane = async () => {
        while (new Set(handed).size < ids.length && Date.now() < deadline)
          await pg.sql.transaction(async (tx) => {
            const claimed = await claimTriagePart(tx, NOW, 0)
            if (!claimed) return
            const queue = await triageQueueSlice(tx, NOW, claimed)
            const [item] = await queue.next(1)
            if (!item) return
            handed.push(item.messageId)
            await queue.done(item)
            await queue.close()
          })
      }
      await Promise.all([lane(), lane(), lane()])
      expect(handed.sort((a, b) => a - b)).toEqual(ids)
    } finally {
      await pg.close()
    }
  }, 60_000)

  it("marks the part written by a slice that only retried, for the next claim's check", async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      const id = await store(pg.sql, 'a', '1:1')
      const version = () =>
        pg.sql.get<{ v: string }>(
          "select xmin::text as v from channel_state where key like 'triage:cursor:%'",
        )
      // The message's triage fails: a retry is due a second later, the cursor passes it.
      await pg.sql.transaction(async (tx) => {
        const queue = await triageQueueSlice(tx, NOW, (await claimTriagePart(tx, NOW, 0))!)
        const [item] = await queue.next(8)
        await queue.failed(item!, 'falló', new Date(NOW.getTime() + 1000))
        await queue.close()
      })
      const before = await version()
      const later = new Date(NOW.getTime() + 2000)
      const retried = await pg.sql.transaction(async (tx) => {
        const claimed = await claimTriagePart(tx, later, 0)
        expect(claimed?.retries).toBe(true)
        const queue = await triageQueueSlice(tx, later, claimed!)
        const [item] = await queue.next(8)
        await queue.done(item!)
        await queue.close()
        return item?.messageId
      })
      expect(retried).toBe(id)
      // The cursor stayed where it was, and its row was written again all the same.
      expect((await version())?.v).not.toBe(before?.v)
    } finally {
      await pg.close()
    }
  })

  it('starts every part where the one cursor of an older version stood', async () => {
    const pg = openPostgres(postgres.database(), { max: 4 })
    try {
      await migratePostgres(pg.sql)
      const before = await store(pg.sql, 'a', '1:1')
      const after = await store(pg.sql, 'b', '1:1')
      // An older version triaged the first message and left its cursor there.
      await pg.sql.run(
        "insert into channel_state (key, value, updated_at) values ('triage:cursor', ?, 0)",
        [String(before)],
      )
      expect(await triageBacklog(pg.sql)).toBe(1)
      const read = await pg.sql.transaction(async (tx) => {
        const part = await claimTriagePart(tx, NOW, 0)
        const queue = await triageQueueSlice(tx, NOW, part!)
        const due = await queue.next(8)
        for (const item of due) await queue.done(item)
        await queue.close()
        return due.map((item) => item.messageId)
      })
      expect(read).toEqual([after])
      // The part's own cursor now stands past it, and nothing is left.
      expect(await triageBacklog(pg.sql)).toBe(0)
      expect(await pg.sql.transaction((tx) => claimTriagePart(tx, NOW, 0))).toBeNull()
    } finally {
      await pg.close()
    }
  }, 60_000)

  it('reads a part no more in a slice once a read came back short', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      const first = await store(pg.sql, 'a', '1:1')
      const reads: string[] = []
      const slice = () =>
        pg.sql.transaction(async (tx) => {
          const part = await claimTriagePart(tx, NOW, 0)
          const watched: Sql = {
            ...tx,
            values: (text, values) => {
              reads.push(text)
              return tx.values(text, values)
            },
          }
          const queue = await triageQueueSlice(watched, NOW, part!)
          const read = (await queue.next(8)).map((item) => item.messageId)
          // Another message of the conversation is stored meanwhile, by another connection.
          if (read[0] === first) await store(pg.sql, 'b', '1:1')
          const again = (await queue.next(8)).map((item) => item.messageId)
          for (const id of read) await queue.done({ messageId: id, retry: null })
          await queue.close()
          return [read, again]
        })
      // The claim read the part: one message where it asked for eight. The slice reads no
      // more, not even once…
      expect(await slice()).toEqual([[first], []])
      expect(reads).toHaveLength(0)
      // …and the next slice finds the message stored meanwhile.
      const [next] = await slice()
      expect(next?.[0]).toBeGreaterThan(first)
    } finally {
      await pg.close()
    }
  })

  it("writes a slice's last decisions and its moved cursor in one statement", async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      const ids = [await store(pg.sql, 'a', '1:1'), await store(pg.sql, 'b', '1:1')]
      const conversation = Number(
        (await pg.sql.get<{ id: number }>('select conversation_id as id from messages'))?.id,
      )
      const writes: string[] = []
      await pg.sql.transaction(async (tx) => {
        const queue = await triageQueueSlice(tx, NOW, (await claimTriagePart(tx, NOW, 0))!)
        const due = await queue.next(8)
        expect(due.map((item) => item.messageId)).toEqual(ids)
        // Two where eight were asked for: nothing more to read, so nothing to write before.
        expect(queue.exhausted).toBe(true)
        const decisions = heldDecisions()
        for (const item of due) {
          await decisions.record(tx, {
            messageId: item.messageId,
            conversationId: conversation,
            decision: someDecision(),
            rulebookVersion: 'test',
            now: NOW,
          })
          await queue.done(item)
        }
        const watched: Sql = {
          ...tx,
          run: (text, values) => {
            writes.push(text)
            return tx.run(text, values)
          },
        }
        await decisions.flush(watched, queue.closing())
      })
      expect(writes).toHaveLength(1)
      // Both went in: the decisions, and the cursor past the two messages.
      const decided = await pg.sql.all<{ id: number }>(
        'select message_id as id from triage_decisions order by message_id',
      )
      expect(decided.map((d) => Number(d.id))).toEqual(ids)
      expect(await triageBacklog(pg.sql)).toBe(0)
    } finally {
      await pg.close()
    }
  })
})
