import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { purgeExpired } from './retention.js'
import { jobs, messages, webhookDeliveries } from './schema.js'
import type { Sql } from './sql.js'
import { triageQueueSlice } from './triage-queue.js'

const DAY = 86_400_000
const policy = { deliveriesMs: 8 * DAY, jobsMs: 7 * DAY }

const delivery = storedDelivery

describe('retention', () => {
  let db: Db
  let sql: Sql
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
  })
  afterEach(() => closeDatabase(db))

  it('forgets delivery ids past the dedupe horizon and old finished jobs, and keeps messages', async () => {
    const now = Date.parse('2026-11-21T12:00:00Z')
    // Each message's triage failed once and was retried at once: a finished retry job each.
    const retried = async (at: Date) => {
      for (const step of ['fail', 'retry'] as const)
        await sql.transaction(async (tx) => {
          const queue = await triageQueueSlice(tx, at)
          const [item] = await queue.next(1)
          if (step === 'fail') await queue.failed(item!, 'classifier broke', at)
          else await queue.done(item!)
          await queue.close()
        })
    }
    await persistDelivery(sql, delivery('old', '1:1'), new Date(now - 9 * DAY))
    await retried(new Date(now - 9 * DAY))
    await persistDelivery(sql, delivery('recent', '1:2'), new Date(now - 1 * DAY))
    await retried(new Date(now - 1 * DAY))
    const [oldJob, recentJob] = db.select().from(jobs).all()
    expect([oldJob?.status, recentJob?.status]).toEqual(['done', 'done'])

    expect(await purgeExpired(sql, now, policy)).toEqual({ deliveries: 1, jobs: 1 })
    expect(
      db
        .select()
        .from(webhookDeliveries)
        .all()
        .map((d) => d.deliveryId),
    ).toEqual(['recent'])
    expect(
      db
        .select()
        .from(jobs)
        .all()
        .map((j) => j.id),
    ).toEqual([recentJob!.id])
    // Both messages stay; the old one just loses its link to the forgotten delivery.
    const kept = db.select().from(messages).all()
    expect(kept.map((m) => m.externalId)).toEqual(['1:1', '1:2'])
    expect(kept[0]!.deliveryId).toBeNull()
    // A very late retry of the old delivery still stores nothing new: the message id dedupes.
    const late = await persistDelivery(sql, delivery('old', '1:1'), new Date(now))
    expect(late).toMatchObject({ outcome: 'stored', messageIds: [], duplicateMessages: 1 })
    expect(await purgeExpired(sql, now, policy)).toEqual({ deliveries: 0, jobs: 0 })
  })

  it('sweeps in chunks until nothing expired is left', async () => {
    const now = Date.parse('2026-11-21T12:00:00Z')
    for (let i = 0; i < 4500; i++)
      await persistDelivery(
        sql,
        { ...delivery(`d${i}`, `1:${i}`), messages: [] },
        new Date(now - 30 * DAY),
      )
    expect((await purgeExpired(sql, now, policy)).deliveries).toBe(4500)
    expect(db.select().from(webhookDeliveries).all()).toEqual([])
  })
})
