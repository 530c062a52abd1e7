import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, type Db, openDatabase, writeTransaction } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { purgeExpired } from './retention.js'
import { jobs, messages, webhookDeliveries } from './schema.js'
import { triageQueueSlice } from './triage-queue.js'

const DAY = 86_400_000
const policy = { deliveriesMs: 8 * DAY, jobsMs: 7 * DAY }

const delivery = storedDelivery

describe('retention', () => {
  let db: Db
  beforeEach(() => {
    db = openDatabase(':memory:')
  })
  afterEach(() => closeDatabase(db))

  it('forgets delivery ids past the dedupe horizon and old finished jobs, and keeps messages', () => {
    const now = Date.parse('2026-11-21T12:00:00Z')
    // Each message's triage failed once and was retried at once: a finished retry job each.
    const retried = (at: Date) => {
      for (const step of ['fail', 'retry'] as const)
        writeTransaction(db, () => {
          const queue = triageQueueSlice(db, at)
          const [item] = queue.next(1)
          if (step === 'fail') queue.failed(item!, 'classifier broke', at)
          else queue.done(item!)
          queue.close()
        })
    }
    persistDelivery(db, delivery('old', '1:1'), new Date(now - 9 * DAY))
    retried(new Date(now - 9 * DAY))
    persistDelivery(db, delivery('recent', '1:2'), new Date(now - 1 * DAY))
    retried(new Date(now - 1 * DAY))
    const [oldJob, recentJob] = db.select().from(jobs).all()
    expect([oldJob?.status, recentJob?.status]).toEqual(['done', 'done'])

    expect(purgeExpired(db, now, policy)).toEqual({ deliveries: 1, jobs: 1 })
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
    const late = persistDelivery(db, delivery('old', '1:1'), new Date(now))
    expect(late).toMatchObject({ outcome: 'stored', messageIds: [], duplicateMessages: 1 })
    expect(purgeExpired(db, now, policy)).toEqual({ deliveries: 0, jobs: 0 })
  })

  it('sweeps in chunks until nothing expired is left', () => {
    const now = Date.parse('2026-11-21T12:00:00Z')
    for (let i = 0; i < 4500; i++)
      persistDelivery(
        db,
        { ...delivery(`d${i}`, `1:${i}`), messages: [] },
        new Date(now - 30 * DAY),
      )
    expect(purgeExpired(db, now, policy).deliveries).toBe(4500)
    expect(db.select().from(webhookDeliveries).all()).toEqual([])
  })
})
