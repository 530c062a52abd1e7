import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { packageRoot } from '../package-root.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { jobs } from './schema.js'
import type { Sql } from './sql.js'
import {
  type QueuedMessage,
  type TriageQueueSlice,
  triageBacklog,
  triageQueueSlice,
} from './triage-queue.js'

const NOW = new Date('2026-11-21T12:00:00Z')
const later = (ms: number) => new Date(NOW.getTime() + ms)

describe('the triage queue', () => {
  let db: Db
  let sql: Sql
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
  })
  afterEach(() => closeDatabase(db))

  /** Stores messages; `triage: false` ones (an agent's reply) are never queued. */
  const store = async (...texts: string[]) => {
    const ids: number[] = []
    for (const text of texts) {
      const delivery = storedDelivery(`d-${text}`, `1:${text}`, text)
      const message = { ...delivery.messages[0]!, triage: !text.startsWith('agent') }
      const stored = await persistDelivery(sql, { ...delivery, messages: [message] }, NOW)
      ids.push(stored.outcome === 'stored' ? stored.messageIds[0]! : -1)
    }
    return ids
  }

  /** One slice of the worker: what it handed out, doing `work` with each, then committing. */
  const slice = (
    at: Date,
    work: (item: QueuedMessage, queue: TriageQueueSlice) => unknown = (item, queue) =>
      queue.done(item),
    limit = 8,
  ) =>
    sql.transaction(async (tx) => {
      const queue = await triageQueueSlice(tx, at)
      const handed = await queue.next(limit)
      for (const item of handed) await work(item, queue)
      await queue.close()
      return handed.map((item) => item.messageId)
    })

  it('hands out stored messages in order, once each, and skips those not for triage', async () => {
    const [a, , b] = await store('uno', 'agent-1', 'dos')
    expect(await triageBacklog(sql)).toBe(2)
    expect(await slice(NOW)).toEqual([a, b])
    expect(await triageBacklog(sql)).toBe(0)
    expect(await slice(NOW)).toEqual([])
    const [c] = await store('tres')
    expect(await slice(NOW)).toEqual([c])
    // Triaging a message on the first try writes no row of its own.
    expect(db.select().from(jobs).all()).toEqual([])
  })

  it('keeps what a slice handed out but did not finish, and what a rolled-back slice did', async () => {
    const [a, b, c] = await store('uno', 'dos', 'tres')
    // The slice ran out of time after the first message.
    expect(
      await slice(NOW, (item, queue) => (item.messageId === a ? queue.done(item) : undefined)),
    ).toEqual([a, b, c])
    expect(await triageBacklog(sql)).toBe(2)
    // A crash before the commit: nothing of the slice stays, so the messages are handed again.
    await expect(
      sql.transaction(async (tx) => {
        const queue = await triageQueueSlice(tx, NOW)
        for (const item of await queue.next(8)) await queue.done(item)
        await queue.close()
        throw new Error('killed')
      }),
    ).rejects.toThrow('killed')
    expect(await slice(NOW)).toEqual([b, c])
  })

  it('retries a failed message when its time comes, before new ones, and can give up', async () => {
    const [a, b] = await store('uno', 'dos')
    await slice(NOW, (item, queue) =>
      item.messageId === a ? queue.failed(item, 'classifier broke', later(1000)) : queue.done(item),
    )
    expect(db.select().from(jobs).all()).toMatchObject([
      { refId: a, status: 'pending', attempts: 1, runAt: later(1000).getTime() },
    ])
    // Still waiting for its retry: part of the backlog, not handed out before its time.
    expect(await triageBacklog(sql)).toBe(1)
    const [c] = await store('tres')
    expect(await slice(NOW)).toEqual([c])
    expect(b).toBeLessThan(c!)
    const [d] = await store('cuatro')
    // Its time came: the retry goes first, then what is new.
    expect(await slice(later(1000), (item, queue) => queue.failed(item, 'again', null))).toEqual([
      a,
      d,
    ])
    expect(db.select().from(jobs).all()).toMatchObject([
      { refId: a, status: 'failed', attempts: 2, lastError: 'again' },
      { refId: d, status: 'failed', attempts: 1, lastError: 'again' },
    ])
    // Given up: no longer waiting.
    expect(await triageBacklog(sql)).toBe(0)
    expect(await slice(later(60_000))).toEqual([])
  })

  it('starts past every message of a database from before the cursor', async () => {
    await store('uno', 'dos')
    // Such a database had a job row for each of its messages: those are what gets triaged.
    db.$client.exec("delete from channel_state where key = 'triage:cursor'")
    const migration = readFileSync(
      join(packageRoot(), 'src/store/migrations/0007_triage_cursor.sql'),
      'utf8',
    )
    db.$client.exec(migration)
    expect(await triageBacklog(sql)).toBe(0)
    const [c] = await store('tres')
    expect(await slice(NOW)).toEqual([c])
  })
})
