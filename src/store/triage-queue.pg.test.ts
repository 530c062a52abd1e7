import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { persistDelivery } from './ingest-store.js'
import { migratePostgres, openPostgres } from './postgres.js'
import { TRIAGE_PARTS } from './triage-parts.js'
import { triageQueueSlice } from './triage-queue.js'

// On PostgreSQL, transactions commit in any order: were two deliveries stored at once, the
// message with the lower id could become visible after the one with the higher id, and the
// triage queue (a cursor through ids) would pass it for good. Stores take turns instead.

const NOW = new Date('2026-11-21T12:00:00Z')

describeWithService('postgres', 'the triage queue on PostgreSQL', () => {
  const postgres = postgresForSuite()

  it('never sees a message past one still being stored', async () => {
    const pg = openPostgres(postgres.database(), { max: 4 })
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      await migratePostgres(pg.sql)
      let first = 0
      // The first delivery is stored (its id taken) and its transaction stays open…
      const slow = pg.sql.transaction(async (tx) => {
        const stored = await persistDelivery(tx, storedDelivery('d-1', '1:1', 'primero'), NOW)
        first = stored.outcome === 'stored' ? stored.messageIds[0]! : -1
        await held
      })
      while (first === 0) await new Promise((r) => setTimeout(r, 5))
      // …while a second one, another person's, is delivered.
      const other = storedDelivery('d-2', '1:2', 'segundo')
      let second = 0
      const fast = persistDelivery(
        pg.sql,
        {
          ...other,
          messages: [
            { ...other.messages[0]!, conversationExternalId: '1:11', contactExternalId: '1:41' },
          ],
        },
        NOW,
      ).then((stored) => {
        second = stored.outcome === 'stored' ? stored.messageIds[0]! : -1
      })
      // Every part of the queue, from its start.
      const read = () =>
        pg.sql.transaction(async (tx) => {
          const seen: number[] = []
          for (let part = 0; part < TRIAGE_PARTS; part++) {
            const claimed = { part, cursor: 0, retries: false }
            const queue = await triageQueueSlice(tx, NOW, claimed)
            for (const item of await queue.next(8)) seen.push(item.messageId)
          }
          return seen.sort((a, b) => a - b)
        })
      await new Promise((r) => setTimeout(r, 300))
      // The second waits for its turn: the queue sees neither yet, so it passes neither…
      expect(second).toBe(0)
      expect(await read()).toEqual([])
      release()
      await slow
      await fast
      // …and then both, in order.
      expect(second).toBeGreaterThan(first)
      expect(await read()).toEqual([first, second])
    } finally {
      release()
      await pg.close()
    }
  }, 60_000)
})
