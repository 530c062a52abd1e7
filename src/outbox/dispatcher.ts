import { type ExecutorMap, upstreamOfKind } from '../contracts/effect.js'
import { PermanentError, TransientError } from '../contracts/errors.js'
import { backoffDelay } from '../kit/backoff.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import {
  claimDueEffects,
  extendLeases,
  markEffectDead,
  markEffectsDone,
  nextEffectDueAt,
  type OutboxRow,
  releaseEffects,
  scheduleEffectRetry,
} from '../store/outbox-store.js'
import type { Sql } from '../store/sql.js'
import { upstreamLimits } from './upstreams.js'

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

/** Shortest time between two claims made because chains ended (ms). */
const CLAIM_GAP_MS = 10
/** Longest an effect done waits to be recorded with others (ms). */
const DONE_GAP_MS = 3

/**
 * Runs outbox effects: claims what is due, calls its executor, and records done, a retry
 * (exponential backoff with jitter, or the upstream's Retry-After) or a dead letter. How many
 * run at once toward each upstream adapts to its answers (`upstreams.ts`); the effects of one
 * conversation toward one upstream run in order (`claimDueEffects`).
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const concurrency = deps.concurrency ?? 8
  const leaseMs = deps.leaseMs ?? 60_000
  const backoff = deps.backoff ?? { baseMs: 2000, maxMs: 15 * 60_000 }
  const maxRetryAfterMs = deps.maxRetryAfterMs ?? 60 * 60_000
  const inFlight = new Map<number, Promise<void>>()
  const upstreams = upstreamLimits({ max: concurrency })
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

  // Effects done are recorded together: what finishes within DONE_GAP_MS is one commit.
  let marks: { id: number; result: unknown; at: number; settle: (err?: unknown) => void }[] = []
  const flushMarks = () => {
    const batch = marks
    marks = []
    markEffectsDone(deps.db, batch).then(
      () => {
        for (const mark of batch) mark.settle()
      },
      (err: unknown) => {
        for (const mark of batch) mark.settle(err)
      },
    )
  }
  const recordDone = (id: number, result: unknown) =>
    new Promise<void>((resolve, reject) => {
      marks.push({
        id,
        result,
        at: deps.clock.now().getTime(),
        settle: (err) => (err === undefined ? resolve() : reject(err)),
      })
      if (marks.length === 1) setTimeout(flushMarks, DONE_GAP_MS)
    })

  type Outcome = 'done' | 'retry' | 'dead'
  const finish = (row: OutboxRow, outcome: Outcome): Outcome => {
    deps.onAttempt?.({ kind: row.kind, outcome })
    return outcome
  }

  const execute = async (row: OutboxRow): Promise<Outcome> => {
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
      return finish(row, 'dead')
    }
    const upstream = upstreamOfKind(row.kind)
    upstreams.started(upstream)
    const started = performance.now()
    let failure: unknown
    try {
      const result = await executor({
        key: row.idempotencyKey,
        kind: row.kind,
        payload: JSON.parse(row.payload),
        attempt: row.attempts,
        mayHaveRun: row.attempts > 1 || row.lastError !== null,
      })
      await recordDone(row.id, result)
      log.info('effect done')
      return finish(row, 'done')
    } catch (err) {
      failure = err
      const now = deps.clock.now()
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof PermanentError || row.attempts >= row.maxAttempts) {
        await markEffectDead(deps.db, row.id, message, now)
        log.warn({ err: message }, 'effect dead-lettered')
        return finish(row, 'dead')
      }
      const retryAfter = err instanceof TransientError ? err.retryAfterMs : undefined
      const delay =
        retryAfter !== undefined
          ? Math.min(retryAfter, maxRetryAfterMs)
          : backoffDelay(row.attempts, backoff)
      await scheduleEffectRetry(deps.db, row.id, message, new Date(now.getTime() + delay), now)
      log.info({ err: message, delayMs: delay }, 'effect will be retried')
      loop.wakeAt(Date.now() + delay)
      return finish(row, 'retry')
    } finally {
      upstreams.finished(upstream, performance.now() - started, failure)
    }
  }

  /**
   * Runs the effects of one conversation toward one upstream in their order. One that will be
   * retried holds the rest back: they are given back, to run after it.
   */
  const runChain = async (chain: OutboxRow[]): Promise<void> => {
    for (let i = 0; i < chain.length; i++) {
      if ((await execute(chain[i]!)) !== 'retry') continue
      const rest = chain.slice(i + 1).map((row) => row.id)
      await releaseEffects(deps.db, rest, deps.clock.now())
      return
    }
  }

  /** Claimed rows as chains: one per conversation and upstream, in id order; others alone. */
  const chainsOf = (rows: OutboxRow[]): OutboxRow[][] => {
    const chains = new Map<string, OutboxRow[]>()
    for (const row of [...rows].sort((a, b) => a.id - b.id)) {
      const key =
        row.conversationId === null
          ? `#${row.id}`
          : `${row.conversationId}|${upstreamOfKind(row.kind)}`
      const chain = chains.get(key)
      if (chain) chain.push(row)
      else chains.set(key, [row])
    }
    return [...chains.values()]
  }

  /** Chains running here. */
  let running = 0
  // A chain that ends makes room for the next claim, but a claim is a transaction: finished
  // chains within CLAIM_GAP_MS of the last claim wait for one claim together.
  let claimedAt = 0
  const roomMade = () => {
    const next = claimedAt + CLAIM_GAP_MS
    if (Date.now() >= next) loop.wake()
    else loop.wakeAt(next)
  }
  const loop = startLoop({
    name: 'dispatcher',
    logger: deps.logger,
    // A safety poll: picks up effects queued by another process (`centralita dlq replay`).
    pollMs: 5_000,
    runOnce: async () => {
      const room = upstreams.room(concurrency - running)
      if (room <= 0) return 'idle'
      claimedAt = Date.now()
      const rows = await claimDueEffects(
        deps.db,
        room,
        deps.clock.now(),
        leaseMs,
        [...inFlight.keys()],
        upstreams.resting(),
      )
      const wakes = upstreams.wakesAt()
      if (wakes !== null) loop.wakeAt(wakes)
      const chains = chainsOf(rows)
      for (const chain of chains) {
        running++
        const run = runChain(chain)
          .catch((err: unknown) => deps.logger.error({ err }, 'outbox chain failed'))
          .finally(() => {
            running--
            for (const row of chain) inFlight.delete(row.id)
            roomMade()
          })
        for (const row of chain) inFlight.set(row.id, run)
      }
      if (rows.length === 0 && running === 0) {
        const next = await nextEffectDueAt(deps.db)
        if (next !== null) loop.wakeAt(Date.now() + Math.max(0, next - deps.clock.now().getTime()))
      }
      return chains.length >= room && rows.length > 0 ? 'more' : 'idle'
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
