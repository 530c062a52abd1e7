import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { packageRoot } from '../package-root.js'
import { closeDatabase, type Db, openDatabase, writeTransaction } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { jobs } from './schema.js'
import { type QueuedMessage, triageBacklog, triageQueueSlice } from './triage-queue.js'

const NOW = new Date('2026-11-21T12:00:00Z')
const later = (ms: number) => new Date(NOW.getTime() + ms)

describe('the triage queue', () => {
  let db: Db
  beforeEach(() => {
    db = openDatabase(':memory:')
  })
  afterEach(() => closeDatabase(db))

  /** Stores messages; `triage: false` ones (an agent's reply) are never queued. */
  const store = (...texts: string[]) =>
    texts.map((text) => {
      const delivery = storedDelivery(`d-${text}`, `1:${text}`, text)
      const message = { ...delivery.messages[0]!, triage: !text.startsWith('agent') }
      const stored = persistDelivery(db, { ...delivery, messages: [message] }, NOW)
      return stored.outcome === 'stored' ? stored.messageIds[0]! : -1
    })

  /** One slice of the worker: what it handed out, doing `work` with each, then committing. */
  const slice = (
    at: Date,
    work: (item: QueuedMessage, queue: ReturnType<typeof triageQueueSlice>) => void = (
      item,
      queue,
    ) => queue.done(item),
    limit = 8,
  ) =>
    writeTransaction(db, () => {
      const queue = triageQueueSlice(db, at)
      const handed = queue.next(limit)
      for (const item of handed) work(item, queue)
      queue.close()
      return handed.map((item) => item.messageId)
    })

  it('hands out stored messages in order, once each, and skips those not for triage', () => {
    const [a, , b] = store('uno', 'agent-1', 'dos')
    expect(triageBacklog(db)).toBe(2)
    expect(slice(NOW)).toEqual([a, b])
    expect(triageBacklog(db)).toBe(0)
    expect(slice(NOW)).toEqual([])
    const [c] = store('tres')
    expect(slice(NOW)).toEqual([c])
    // Triaging a message on the first try writes no row of its own.
    expect(db.select().from(jobs).all()).toEqual([])
  })

  it('keeps what a slice handed out but did not finish, and what a rolled-back slice did', () => {
    const [a, b, c] = store('uno', 'dos', 'tres')
    // The slice ran out of time after the first message.
    expect(slice(NOW, (item, queue) => item.messageId === a && queue.done(item))).toEqual([a, b, c])
    expect(triageBacklog(db)).toBe(2)
    // A crash before the commit: nothing of the slice stays, so the messages are handed again.
    expect(() =>
      writeTransaction(db, () => {
        const queue = triageQueueSlice(db, NOW)
        for (const item of queue.next(8)) queue.done(item)
        queue.close()
        throw new Error('killed')
      }),
    ).toThrow('killed')
    expect(slice(NOW)).toEqual([b, c])
  })

  it('retries a failed message when its time comes, before new ones, and can give up', () => {
    const [a, b] = store('uno', 'dos')
    slice(NOW, (item, queue) =>
      item.messageId === a ? queue.failed(item, 'classifier broke', later(1000)) : queue.done(item),
    )
    expect(db.select().from(jobs).all()).toMatchObject([
      { refId: a, status: 'pending', attempts: 1, runAt: later(1000).getTime() },
    ])
    // Still waiting for its retry: part of the backlog, not handed out before its time.
    expect(triageBacklog(db)).toBe(1)
    const [c] = store('tres')
    expect(slice(NOW)).toEqual([c])
    expect(b).toBeLessThan(c!)
    const [d] = store('cuatro')
    // Its time came: the retry goes first, then what is new.
    expect(slice(later(1000), (item, queue) => queue.failed(item, 'again', null))).toEqual([a, d])
    expect(db.select().from(jobs).all()).toMatchObject([
      { refId: a, status: 'failed', attempts: 2, lastError: 'again' },
      { refId: d, status: 'failed', attempts: 1, lastError: 'again' },
    ])
    // Given up: no longer waiting.
    expect(triageBacklog(db)).toBe(0)
    expect(slice(later(60_000))).toEqual([])
  })

  it('starts past every message of a database from before the cursor', () => {
    store('uno', 'dos')
    // Such a database had a job row for each of its messages: those are what gets triaged.
    db.$client.exec("delete from channel_state where key = 'triage:cursor'")
    const migration = readFileSync(
      join(packageRoot(), 'src/store/migrations/0007_triage_cursor.sql'),
      'utf8',
    )
    db.$client.exec(migration)
    expect(triageBacklog(db)).toBe(0)
    const [c] = store('tres')
    expect(slice(NOW)).toEqual([c])
  })
})
