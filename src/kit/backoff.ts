export type BackoffOptions = { baseMs: number; maxMs: number; random?: () => number }

/**
 * Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1),
 * capped. The jitter spreads retries so a recovering upstream is not hit all at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling * (0.5 + random() * 0.5))
}
