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
