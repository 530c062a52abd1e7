import { describe, expect, it } from 'vitest'
import { pacer } from './pacer.js'

describe('pacer', () => {
  /** When each of `n` calls asked at `at()` would start, on a clock moved by the test. */
  const starts = (p: ReturnType<typeof pacer>, n: number, at: () => number) =>
    Array.from({ length: n }, () => at() + p.reserve())

  it('never starts more than the limit in any minute, whatever minute the upstream counts', () => {
    let clock = 1_000_000
    const p = pacer({ perMinute: 600, now: () => clock })
    const times: number[] = []
    // Calls asked in waves: a burst at once, then more every few seconds.
    for (let wave = 0; wave < 20; wave++) {
      times.push(...starts(p, 150, () => clock))
      clock += 7_000
    }
    times.sort((a, b) => a - b)
    let most = 0
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j]! <= times[i]! - 60_000) j++
      most = Math.max(most, i - j + 1)
    }
    expect(most).toBeLessThanOrEqual(600)
    // …and it uses what it may: the limit, not far below it.
    expect(most).toBeGreaterThanOrEqual(590)
  })

  it('lets a small burst through at once, then spaces the calls in the order asked', () => {
    const clock = 0
    const p = pacer({ perMinute: 120, burst: 5, now: () => clock })
    const waits = Array.from({ length: 8 }, () => p.reserve())
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0])
    expect(waits[5]).toBeGreaterThan(0)
    expect(waits[6]).toBeGreaterThan(waits[5]!)
    expect(waits[7]).toBeGreaterThan(waits[6]!)
  })

  it('starts nothing before the end of a pause the upstream asked for', () => {
    let clock = 0
    const p = pacer({ perMinute: 6_000, now: () => clock })
    expect(p.reserve()).toBe(0)
    p.pause(5_000)
    expect(p.reserve()).toBe(5_000)
    clock = 5_000
    expect(p.reserve()).toBeGreaterThan(0)
    clock = 6_000
    expect(p.reserve()).toBe(0)
  })
})
