import type { z } from 'zod'
import { PermanentError } from './errors.js'
/** An outbound action the hub will perform: planned by the core or a channel, run by the outbox. */
export type Effect = {
  /** Which executor runs it: `chatwoot.message`, `email.send`, … */
  kind: string
  /** Idempotency key: the same key is never enqueued (or sent upstream) twice. */
  key: string
  /** What it is about, for listings: `message:12`, `ticket:3`. */
  subject: string
  payload: Record<string, unknown>
  /** Key of an effect that must be done before this one may run. */
  after?: string
  maxAttempts?: number
  /** The conversation it concerns (internal id), if any. */
  conversationId?: number
  /** Whom it writes to, for per-recipient caps. */
  recipient?: string
  /** Sent by the hub on its own (not relayed from a person). */
  automatic?: boolean
}

/** One run of an outbox effect, as the dispatcher hands it to its executor. */
export type EffectRun = {
  key: string
  kind: string
  payload: unknown
  /** 1 on the first try. */
  attempt: number
  /**
   * An earlier try may have reached the upstream (a retry, a replay, or a run a crash cut
   * short): the executor checks the upstream state or relies on the idempotency key.
   */
  mayHaveRun: boolean
}

/**
 * Performs one kind of effect. Resolves with a small result to store; throws TransientError
 * to be retried, PermanentError to be dead-lettered at once.
 */
export type EffectExecutor = (run: EffectRun) => Promise<unknown>

export type ExecutorMap = ReadonlyMap<string, EffectExecutor>

/**
 * An effect's payload read by its executor's schema; a payload that does not fit can never
 * run, so it is a permanent failure (dead-lettered at once), named by the effect's kind.
 */
export function parsePayload<T extends z.ZodType>(schema: T, run: EffectRun): z.infer<T> {
  const parsed = schema.safeParse(run.payload)
  if (!parsed.success) throw new PermanentError(`${run.kind}: malformed payload`)
  return parsed.data
}

/**
 * The upstream an effect kind writes to: what comes before its first dot (`chatwoot.labels`
 * → `chatwoot`). Effects of one conversation toward one upstream run in order, and how many
 * run at once is adapted per upstream.
 */
export function upstreamOfKind(kind: string): string {
  const dot = kind.indexOf('.')
  return dot < 0 ? kind : kind.slice(0, dot)
}
