import type { Logger } from './logger.js'

/** A background loop that can be woken early and stopped cleanly. */
export type Loop = {
  /** Run as soon as possible (new work arrived). */
  wake(): void
  /** Sleep until `at` (unix ms) at the latest: for work due at a known time. */
  wakeAt(at: number): void
  /** Stop scheduling and wait for the current run to finish. */
  stop(): Promise<void>
  readonly running: boolean
}

export type LoopOptions = {
  name: string
  logger: Logger
  /** Longest sleep between runs when nothing wakes the loop. */
  pollMs: number
  /** One unit of work: 'more' runs again at once (after yielding to I/O), 'idle' sleeps. */
  runOnce: () => 'more' | 'idle' | Promise<'more' | 'idle'>
}

export function startLoop(options: LoopOptions): Loop {
  let stopped = false
  let current: Promise<void> | null = null
  let again = false
  let timer: NodeJS.Timeout | null = null
  let timerAt = Number.POSITIVE_INFINITY

  const schedule = (at: number) => {
    if (stopped) return
    if (timer && timerAt <= at) return
    if (timer) clearTimeout(timer)
    timerAt = at
    timer = setTimeout(
      () => {
        timer = null
        timerAt = Number.POSITIVE_INFINITY
        wake()
      },
      Math.max(0, Math.min(at - Date.now(), 2_147_483_647)),
    )
    timer.unref()
  }

  const run = async () => {
    do {
      again = false
      let result: 'more' | 'idle' = 'idle'
      try {
        result = await options.runOnce()
      } catch (err) {
        options.logger.error({ err, loop: options.name }, 'loop run failed')
      }
      if (result === 'more') again = true
      // Yield so HTTP requests and timers are served between batches.
      if (again) await new Promise((resolve) => setImmediate(resolve))
    } while (again && !stopped)
    current = null
    schedule(Date.now() + options.pollMs)
  }

  const wake = () => {
    if (stopped) return
    // biome-ignore lint/nursery/noMisusedPromises: whether a pass is running, not its result
    if (current) {
      again = true
      return
    }
    current = run()
  }

  // Wakes from callers run on a later turn: the caller (an HTTP request being acknowledged)
  // never waits for the loop's work, and a burst of wakes is one run.
  let soon = false
  const wakeSoon = () => {
    if (stopped || soon) return
    soon = true
    setImmediate(() => {
      soon = false
      wake()
    })
  }

  // First run on the next turn, so the caller finishes wiring (it may reference the loop).
  wakeSoon()
  return {
    wake: wakeSoon,
    wakeAt: (at) => schedule(at),
    stop: async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      await current
    },
    get running() {
      return !stopped
    },
  }
}
