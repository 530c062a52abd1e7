import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { silentLogger } from '../kit/logger.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from '../store/db.js'
import { persistDelivery } from '../store/ingest-store.js'
import type { Sql } from '../store/sql.js'
import { createAdmission } from './admission.js'

// The backlog bound is enforced from a count of the waiting messages, taken in the background:
// often when the backlog nears the bound, seldom when it is far below (each count reads every
// waiting message, on every instance).

describe('admission by the triage backlog', () => {
  let db: Db
  let sql: Sql
  let counts: number
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
    counts = 0
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-07T12:00:00Z'))
  })
  afterEach(() => {
    vi.useRealTimers()
    closeDatabase(db)
  })

  /** The store, counting the backlog's counts (its one read of the messages past the cursor). */
  const counting = (): Sql =>
    new Proxy(sql, {
      get(target, key) {
        const value = Reflect.get(target, key)
        if (key !== 'get' || typeof value !== 'function') return value
        return (text: string, ...rest: unknown[]) => {
          if (/count\(\*\) as n from messages/.test(text)) counts++
          return value.call(target, text, ...rest)
        }
      },
    })

  let stored = 0
  const store = async (n: number) => {
    for (const end = stored + n; stored < end; stored++)
      await persistDelivery(sql, storedDelivery(`d-${stored}`, `m-${stored}`), new Date())
  }

  /** Asks for admission every 250 ms for `steps` steps; the answers (null: let in). */
  const ask = async (admission: ReturnType<typeof createAdmission>, steps: number) => {
    const answers: (string | null)[] = []
    for (let i = 0; i < steps; i++) {
      answers.push(admission.admit('tawk', 'visitor')?.outcome ?? null)
      // The count runs in the background: let it finish.
      await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setImmediate(resolve))
      vi.advanceTimersByTime(250)
    }
    return answers
  }

  it('counts once a second far below the bound, and every 200 ms from half of it', async () => {
    const admission = createAdmission({
      sql: counting(),
      logger: silentLogger,
      webhookRate: 1_000_000,
      pendingTriage: 100,
      onQueued: () => {},
    })
    // An empty backlog: counted at the first request, then once a second (not 12 times in 3 s).
    expect(await ask(admission, 12)).toEqual(Array(12).fill(null))
    expect(counts).toBeGreaterThanOrEqual(3)
    expect(counts).toBeLessThanOrEqual(4)

    // Another instance stores 60 messages (the bound's half is 50): seen within a second, then
    // counted at every request more than 200 ms after the last count.
    await store(60)
    await ask(admission, 5)
    counts = 0
    await ask(admission, 8)
    expect(counts).toBe(8)

    // Past the bound, senders are turned away within 200 ms.
    await store(50)
    const answers = await ask(admission, 2)
    expect(answers[1]).toBe('overloaded')
  })
})
