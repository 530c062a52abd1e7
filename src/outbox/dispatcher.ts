import type { ExecutorMap } from '../contracts/effect.js'
import { PermanentError, TransientError } from '../contracts/errors.js'
import { backoffDelay } from '../kit/backoff.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import {
  claimDueEffects,
  extendLeases,
  markEffectDead,
  markEffectDone,
  nextEffectDueAt,
  type OutboxRow,
  scheduleEffectRetry,
} from '../store/outbox-store.js'
import type { Sql } from '../store/sql.js'

export type DispatcherDeps = {
  db: Sql
  clock: Clock
  logger: Logger
  executors: ExecutorMap
  /** Effects run at the same time, at most. */
  concurrency?: number
  /** How long a claimed effect is ours before another run may take it over. */
  leaseMs?: number
  backoff?: { baseMs: number; maxMs: number; random?: () => number }
  /** Longest wait honoured from an upstream's Retry-After. */
  maxRetryAfterMs?: number
  /** Told about each finished attempt (metrics). */
  onAttempt?: (event: { kind: string; outcome: 'done' | 'retry' | 'dead' }) => void
}

export type Dispatcher = Loop & { idle(): Promise<void> }

/**
 * Runs outbox effects: claims what is due, calls its executor, and records done, a retry
 * (exponential backoff with jitter, or the upstream's Retry-After) or a dead letter.
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const concurrency = deps.concurrency ?? 8
  const leaseMs = deps.leaseMs ?? 60_000
  const backoff = deps.backoff ?? { baseMs: 2000, maxMs: 15 * 60_000 }
  const maxRetryAfterMs = deps.maxRetryAfterMs ?? 60 * 60_000
  const inFlight = new Map<number, Promise<void>>()
  // While an effect runs here its lease is renewed, so a slow call is never claimed twice.
  const heartbeat = setInterval(
    () => {
      extendLeases(deps.db, [...inFlight.keys()], deps.clock.now().getTime() + leaseMs).catch(
        (err: unknown) => deps.logger.warn({ err }, 'could not renew outbox leases'),
      )
    },
    Math.max(250, Math.floor(leaseMs / 3)),
  )
  heartbeat.unref()

  const finish = (row: OutboxRow, outcome: 'done' | 'retry' | 'dead') => {
    deps.onAttempt?.({ kind: row.kind, outcome })
  }

  const execute = async (row: OutboxRow): Promise<void> => {
    const log = deps.logger.child({ effectId: row.id, kind: row.kind, attempt: row.attempts })
    const executor = deps.executors.get(row.kind)
    if (!executor) {
      await markEffectDead(
        deps.db,
        row.id,
        `no executor for ${row.kind}: channel not configured`,
        deps.clock.now(),
      )
      log.warn('effect dead: no executor')
      finish(row, 'dead')
      return
    }
    try {
      const result = await executor({
        key: row.idempotencyKey,
        kind: row.kind,
        payload: JSON.parse(row.payload),
        attempt: row.attempts,
        mayHaveRun: row.attempts > 1 || row.lastError !== null,
      })
      await markEffectDone(deps.db, row.id, result, deps.clock.now())
      log.info('effect done')
      finish(row, 'done')
    } catch (err) {
      const now = deps.clock.now()
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof PermanentError || row.attempts >= row.maxAttempts) {
        await markEffectDead(deps.db, row.id, message, now)
        log.warn({ err: message }, 'effect dead-lettered')
        finish(row, 'dead')
        return
      }
      const retryAfter = err instanceof TransientError ? err.retryAfterMs : undefined
      const delay =
        retryAfter !== undefined
          ? Math.min(retryAfter, maxRetryAfterMs)
          : backoffDelay(row.attempts, backoff)
      await scheduleEffectRetry(deps.db, row.id, message, new Date(now.getTime() + delay), now)
      log.info({ err: message, delayMs: delay }, 'effect will be retried')
      finish(row, 'retry')
      loop.wakeAt(Date.now() + delay)
    }
  }

  const loop = startLoop({
    name: 'dispatcher',
    logger: deps.logger,
    // A safety poll: picks up effects queued by another process (`centralita dlq replay`).
    pollMs: 5_000,
    runOnce: async () => {
      const room = concurrency - inFlight.size
      if (room <= 0) return 'idle'
      const rows = await claimDueEffects(deps.db, room, deps.clock.now(), leaseMs, [
        ...inFlight.keys(),
      ])
      for (const row of rows) {
        const run = execute(row).finally(() => {
          inFlight.delete(row.id)
          loop.wake()
        })
        inFlight.set(row.id, run)
      }
      if (rows.length === 0 && inFlight.size === 0) {
        const next = await nextEffectDueAt(deps.db)
        if (next !== null) loop.wakeAt(Date.now() + Math.max(0, next - deps.clock.now().getTime()))
      }
      return rows.length === room && rows.length > 0 ? 'more' : 'idle'
    },
  })

  return {
    wake: loop.wake,
    wakeAt: loop.wakeAt,
    get running() {
      return loop.running
    },
    stop: async () => {
      await loop.stop()
      await Promise.allSettled([...inFlight.values()])
      clearInterval(heartbeat)
    },
    /** Resolves once nothing is in flight (tests and graceful shutdown). */
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()])
    },
  }
}
