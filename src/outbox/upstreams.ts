import { TransientError } from '../contracts/errors.js'

type Upstream = {
  limit: number
  running: number
  restUntil: number
  cutAt: number
  /** The fastest answer seen lately (ms), and a smoothed recent one. */
  fastest: number
  recent: number
  seenAt: number
}

/**
 * How many effects may run at once toward each upstream (`chatwoot`, `whatsapp`, `email`…),
 * adapted to its answers, as TCP Vegas adapts a window:
 * - each success adds 1/limit, up to `max`, while answers come about as fast as the fastest
 *   seen lately; when they take three times that, the upstream is queueing the calls (more
 *   at once only makes each one slower): the limit stops growing and shrinks by a tenth every
 *   two seconds, down to max/8 (three, not two: an effect makes one to three calls);
 * - a sign of trouble (a 429, a 5xx, a timeout, a network error) halves the limit, once a
 *   second at most, down to one;
 * - a Retry-After rests the whole upstream until then, not only the effect that heard it.
 */
export function upstreamLimits(options: { max: number; now?: () => number }) {
  const now = options.now ?? Date.now
  const state = new Map<string, Upstream>()
  // Slowness alone never takes an upstream below this: the hub's own busy moments slow its
  // measure of every answer too, and must not starve the outbox.
  const floor = Math.max(1, Math.floor(options.max / 8))
  const of = (upstream: string) => {
    let s = state.get(upstream)
    if (!s) {
      s = {
        limit: options.max,
        running: 0,
        restUntil: 0,
        cutAt: Number.NEGATIVE_INFINITY,
        fastest: Number.POSITIVE_INFINITY,
        recent: 0,
        seenAt: now(),
      }
      state.set(upstream, s)
    }
    return s
  }
  return {
    /** Upstreams that take no more effects now (at their limit, or resting). */
    resting(): string[] {
      const at = now()
      const out: string[] = []
      for (const [upstream, s] of state)
        if (s.running >= Math.floor(s.limit) || s.restUntil > at) out.push(upstream)
      return out
    },
    /**
     * How many effects one claim may take: the room of the tightest upstream that is not
     * resting (a claim does not know its rows' upstreams beforehand; while one is throttled,
     * the others take a little less).
     */
    room(free: number): number {
      const at = now()
      let room = free
      for (const s of state.values()) {
        if (s.restUntil > at) continue
        const left = Math.floor(s.limit) - s.running
        if (left > 0) room = Math.min(room, left)
      }
      return room
    },
    /** When the earliest resting upstream wakes (ms since epoch), or null. */
    wakesAt(): number | null {
      const at = now()
      let soonest: number | null = null
      for (const s of state.values())
        if (s.restUntil > at && (soonest === null || s.restUntil < soonest)) soonest = s.restUntil
      return soonest
    },
    started(upstream: string): void {
      of(upstream).running++
    },
    /** An attempt ended after `ms`: `err` is what it threw, if anything. */
    finished(upstream: string, ms: number, err?: unknown): void {
      const s = of(upstream)
      s.running--
      const at = now()
      if (err === undefined) {
        // The fastest answer drifts up by 1 % a second, so a lasting change is learnt.
        s.fastest = Math.min(s.fastest * 1.01 ** ((at - s.seenAt) / 1000), ms)
        s.seenAt = at
        s.recent = s.recent === 0 ? ms : s.recent * 0.9 + ms * 0.1
        if (s.recent <= 3 * s.fastest + 5) s.limit = Math.min(options.max, s.limit + 1 / s.limit)
        else if (at - s.cutAt >= 2000 && s.limit > floor) {
          s.limit = Math.max(floor, s.limit * 0.9)
          s.cutAt = at
        }
        return
      }
      if (!(err instanceof TransientError)) return
      if (at - s.cutAt >= 1000) {
        s.limit = Math.max(1, s.limit / 2)
        s.cutAt = at
      }
      if (err.retryAfterMs !== undefined && err.retryAfterMs > 0)
        s.restUntil = Math.max(s.restUntil, at + err.retryAfterMs)
    },
    /** Each upstream's current limit (metrics, tests). */
    limits(): Record<string, number> {
      return Object.fromEntries([...state].map(([u, s]) => [u, Math.floor(s.limit)]))
    },
  }
}
