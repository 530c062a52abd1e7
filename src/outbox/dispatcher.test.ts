import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/wait.js'
import type { EffectExecutor, EffectRun } from '../contracts/effect.js'
import { PermanentError, TransientError } from '../contracts/errors.js'
import { systemClock } from '../kit/clock.js'
import { silentLogger } from '../kit/logger.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from '../store/db.js'
import {
  enqueueEffects,
  nextEffectDueAt,
  replayEffect,
  scheduleEffectRetry,
} from '../store/outbox-store.js'
import { outbox } from '../store/schema.js'
import type { Sql } from '../store/sql.js'
import { createDispatcher, type Dispatcher } from './dispatcher.js'

describe('dispatcher', () => {
  let db: Db
  let sql: Sql
  let dispatcher: Dispatcher | null = null
  const runs: EffectRun[] = []
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
    runs.length = 0
  })
  afterEach(async () => {
    await dispatcher?.stop()
    closeDatabase(db)
  })

  const start = (
    executor: EffectExecutor,
    backoff = { baseMs: 20, maxMs: 200 },
    leaseMs?: number,
  ) => {
    dispatcher = createDispatcher({
      db: sql,
      clock: systemClock,
      logger: silentLogger,
      executors: new Map([
        [
          'test.effect',
          async (run) => {
            runs.push(run)
            return executor(run)
          },
        ],
      ]),
      backoff,
      ...(leaseMs ? { leaseMs } : {}),
    })
    return dispatcher
  }
  const enqueue = (key: string, extra: { after?: string; maxAttempts?: number } = {}) =>
    enqueueEffects(
      sql,
      [{ kind: 'test.effect', key, subject: 'test:1', payload: { n: 1 }, ...extra }],
      new Date(),
    )
  // Read straight from the connection, between the dispatcher's transactions.
  const row = (id = 1) => db.select().from(outbox).where(eq(outbox.id, id)).get()!

  it('runs an effect once and stores its result', async () => {
    await enqueue('k1')
    start(async () => ({ sent: true }))
    await waitFor(() => row().status === 'done')
    expect(row()).toMatchObject({ attempts: 1, result: '{"sent":true}', lastError: null })
    expect(runs).toEqual([
      { key: 'k1', kind: 'test.effect', payload: { n: 1 }, attempt: 1, mayHaveRun: false },
    ])
  })

  it('keeps renewing the lease of a slow effect, so it is never run twice at once', async () => {
    await enqueue('slow')
    let running = 0
    let most = 0
    start(
      async () => {
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, 1500))
        running--
        return 'ok'
      },
      undefined,
      300,
    )
    await waitFor(() => row().status === 'done', { timeoutMs: 4000 })
    expect(most).toBe(1)
    expect(runs).toHaveLength(1)
    expect(row().attempts).toBe(1)
  })

  it('never enqueues the same idempotency key twice', async () => {
    expect(await enqueue('same')).toBe(1)
    expect(await enqueue('same')).toBe(0)
  })

  it('retries transient failures with backoff, telling the executor an earlier try may have run', async () => {
    await enqueue('k1')
    let calls = 0
    start(async () => {
      calls++
      if (calls < 3) throw new TransientError('HTTP 503')
      return 'ok'
    })
    await waitFor(() => row().status === 'done')
    expect(row().attempts).toBe(3)
    expect(runs.map((r) => r.mayHaveRun)).toEqual([false, true, true])
  })

  it('waits exactly as long as Retry-After says', async () => {
    await enqueue('k1')
    const before = Date.now()
    let calls = 0
    start(async () => {
      calls++
      if (calls === 1) throw new TransientError('HTTP 429', 700)
      return 'ok'
    })
    await waitFor(() => row().status === 'pending' && row().lastError !== null)
    expect(row().nextAttemptAt - before).toBeGreaterThanOrEqual(700)
    expect(row().nextAttemptAt - before).toBeLessThan(700 + 500)
    await waitFor(() => row().status === 'done', { timeoutMs: 3000 })
  })

  it('dead-letters a permanent failure at once, and a replay runs it again', async () => {
    await enqueue('k1')
    let fail = true
    start(async () => {
      if (fail) throw new PermanentError('HTTP 404')
      return 'ok'
    })
    await waitFor(() => row().status === 'dead')
    expect(row()).toMatchObject({ attempts: 1, lastError: 'HTTP 404' })
    fail = false
    expect(await replayEffect(sql, 1, new Date())).toBe(true)
    dispatcher!.wake()
    await waitFor(() => row().status === 'done')
    expect(runs.at(-1)?.mayHaveRun).toBe(true)
  })

  it('dead-letters after the last attempt', async () => {
    await enqueue('k1', { maxAttempts: 3 })
    start(async () => {
      throw new TransientError('timeout')
    })
    await waitFor(() => row().status === 'dead', { timeoutMs: 3000 })
    expect(row().attempts).toBe(3)
  })

  it('runs an effect only after the one it waits for is done', async () => {
    await enqueue('first')
    await enqueue('second', { after: 'first' })
    let releaseFirst = false
    start(async (run) => {
      if (run.key === 'first' && !releaseFirst) throw new TransientError('not yet')
      return run.key
    })
    await waitFor(() => runs.length >= 2)
    expect(runs.every((r) => r.key === 'first')).toBe(true)
    releaseFirst = true
    await waitFor(() => row(2).status === 'done', { timeoutMs: 3000 })
    const order = runs.map((r) => r.key)
    expect(order.lastIndexOf('first')).toBeLessThan(order.indexOf('second'))
  })

  it('lets an effect wait for a dead one without waking for it, and runs it after the replay', async () => {
    await enqueue('first')
    await enqueue('second', { after: 'first' })
    let fail = true
    start(async (run) => {
      if (fail) throw new PermanentError('HTTP 404')
      return run.key
    })
    await waitFor(() => row(1).status === 'dead')
    // Nothing can run until the replay: no time to wake up for (the waiting effect's own time
    // has passed, and counting it woke the dispatcher at once, over and over).
    expect(row(2).status).toBe('pending')
    expect(await nextEffectDueAt(sql)).toBeNull()
    fail = false
    expect(await replayEffect(sql, 1, new Date())).toBe(true)
    dispatcher!.wake()
    await waitFor(() => row(2).status === 'done')
    expect(runs.map((r) => r.key)).toEqual(['first', 'first', 'second'])
  })

  it('sleeps until the retry of the effect another waits for', async () => {
    await enqueue('first')
    await enqueue('second', { after: 'first' })
    const retryAt = Date.now() + 60_000
    await scheduleEffectRetry(sql, 1, 'HTTP 503', new Date(retryAt), new Date())
    expect(await nextEffectDueAt(sql)).toBe(retryAt)
  })

  it('marks an effect with no executor dead, naming the missing kind', async () => {
    await enqueueEffects(
      sql,
      [{ kind: 'fax.send', key: 'f1', subject: 'test:1', payload: {} }],
      new Date(),
    )
    start(async () => 'ok')
    await waitFor(() => row().status === 'dead')
    expect(row().lastError).toContain('no executor for fax.send')
  })

  describe('per conversation and upstream', () => {
    /** Effects of kinds `a.x` and `b.x`, each in a conversation, in the order given. */
    const queue = (effects: { key: string; kind: 'a.x' | 'b.x'; conversation: number }[]) =>
      enqueueEffects(
        sql,
        effects.map((e) => ({
          kind: e.kind,
          key: e.key,
          subject: 'test:1',
          payload: {},
          conversationId: e.conversation,
        })),
        new Date(),
      )
    const startWith = (run: (key: string) => Promise<unknown>, concurrency = 8) => {
      const executor: EffectExecutor = (r) => run(r.key)
      dispatcher = createDispatcher({
        db: sql,
        clock: systemClock,
        logger: silentLogger,
        executors: new Map([
          ['a.x', executor],
          ['b.x', executor],
        ]),
        backoff: { baseMs: 150, maxMs: 150, random: () => 0.5 },
        concurrency,
      })
    }
    const statusOf = (key: string) =>
      db.select().from(outbox).where(eq(outbox.idempotencyKey, key)).get()!.status

    it("runs one conversation's effects one at a time, in order, and others beside them", async () => {
      await queue([
        { key: 'c1-1', kind: 'a.x', conversation: 1 },
        { key: 'c1-2', kind: 'a.x', conversation: 1 },
        { key: 'c2-1', kind: 'a.x', conversation: 2 },
        { key: 'c1-3', kind: 'a.x', conversation: 1 },
        { key: 'c2-2', kind: 'a.x', conversation: 2 },
      ])
      const events: string[] = []
      const open = new Set<number>()
      let overlapped = false
      startWith(async (key) => {
        const conversation = Number(key[1])
        if (open.has(conversation)) overlapped = true
        open.add(conversation)
        events.push(key)
        await new Promise((r) => setTimeout(r, 30))
        open.delete(conversation)
        return 'ok'
      })
      await waitFor(() => events.length === 5 && statusOf('c2-2') === 'done')
      await dispatcher!.idle()
      expect(overlapped).toBe(false)
      expect(events.filter((k) => k.startsWith('c1'))).toEqual(['c1-1', 'c1-2', 'c1-3'])
      expect(events.filter((k) => k.startsWith('c2'))).toEqual(['c2-1', 'c2-2'])
      // The two conversations ran side by side: the second started before the first ended.
      expect(events.indexOf('c2-1')).toBeLessThan(events.indexOf('c1-2'))
    })

    it('holds the rest of a conversation back while one of its effects waits for a retry', async () => {
      await queue([
        { key: 'c1-1', kind: 'a.x', conversation: 1 },
        { key: 'c1-2', kind: 'a.x', conversation: 1 },
        { key: 'c1-b', kind: 'b.x', conversation: 1 },
        { key: 'c2-1', kind: 'a.x', conversation: 2 },
      ])
      const events: string[] = []
      let failed = false
      startWith(async (key) => {
        events.push(key)
        if (key === 'c1-1' && !failed) {
          failed = true
          throw new TransientError('HTTP 503')
        }
        return 'ok'
      })
      await waitFor(() => statusOf('c1-2') === 'done', { timeoutMs: 3000 })
      // The failed effect ran again before the one queued after it; another upstream of the
      // same conversation, and another conversation, did not wait.
      expect(events.filter((k) => k.startsWith('c1-') && k !== 'c1-b')).toEqual([
        'c1-1',
        'c1-1',
        'c1-2',
      ])
      expect(events.indexOf('c1-b')).toBeLessThan(events.lastIndexOf('c1-1'))
      expect(events.indexOf('c2-1')).toBeLessThan(events.lastIndexOf('c1-1'))
      // The effect held back spent none of its attempts.
      expect(
        db.select().from(outbox).where(eq(outbox.idempotencyKey, 'c1-2')).get()!.attempts,
      ).toBe(1)
    })

    it("rests an upstream for its Retry-After, and runs the other upstreams' effects meanwhile", async () => {
      await queue([
        { key: 'a-1', kind: 'a.x', conversation: 1 },
        { key: 'a-2', kind: 'a.x', conversation: 2 },
        { key: 'b-1', kind: 'b.x', conversation: 3 },
      ])
      const at = new Map<string, number>()
      let throttled = false
      startWith(async (key) => {
        if (!at.has(key)) at.set(key, Date.now())
        if (key === 'a-1' && !throttled) {
          throttled = true
          throw new TransientError('HTTP 429', 400)
        }
        return 'ok'
      }, 1)
      await waitFor(() => ['a-1', 'a-2', 'b-1'].every((k) => statusOf(k) === 'done'), {
        timeoutMs: 3000,
      })
      const first = at.get('a-1')!
      expect(at.get('b-1')! - first).toBeLessThan(350)
      expect(at.get('a-2')! - first).toBeGreaterThanOrEqual(390)
    })
  })
})
