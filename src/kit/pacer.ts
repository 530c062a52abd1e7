/**
 * Spaces the calls to one upstream so that it never throttles them: at most `perMinute` calls
 * start in any minute, whatever window the upstream counts in (Chatwoot's Rack::Attack counts
 * requests per client address in fixed minutes). A small burst starts at once; the rest are
 * spread evenly, in the order asked (GCRA: each call books the next free slot).
 *
 * `pause(until)` starts nothing before `until`: the upstream said to wait (a 429).
 */
export function pacer(options: { perMinute: number; burst?: number; now?: () => number }) {
  const now = options.now ?? Date.now
  const burst = Math.max(1, Math.min(options.burst ?? 10, Math.floor(options.perMinute / 2)))
  // A full burst plus the evenly spread rest fit in any minute: (perMinute - burst) a minute.
  const interval = 60_000 / Math.max(1, options.perMinute - burst)
  /** When the next call would start if calls were spread exactly evenly (GCRA's TAT). */
  let due = 0
  /** Books the next slot: how long until it (ms; 0 when there is room now). */
  const reserve = (): number => {
    const at = now()
    const start = Math.max(at, due - (burst - 1) * interval)
    due = Math.max(due, at) + interval
    return start - at
  }
  return {
    reserve,
    /** Resolves when this call may start (at once when there is room). */
    take(): Promise<void> {
      const wait = reserve()
      return wait <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, wait))
    },
    /** No call starts before `until` (epoch ms); the ones booked later keep their order. */
    pause(until: number): void {
      due = Math.max(due, until + (burst - 1) * interval)
    },
    /** How long a call asked now would wait, in ms (metrics, tests). */
    get backlogMs(): number {
      return Math.max(0, due - (burst - 1) * interval - now())
    },
  }
}

export type Pacer = ReturnType<typeof pacer>
