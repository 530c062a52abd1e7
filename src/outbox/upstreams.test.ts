import { describe, expect, it } from 'vitest'
import { TransientError } from '../contracts/errors.js'
import { upstreamLimits } from './upstreams.js'

describe('upstream limits', () => {
  const setup = () => {
    let clock = 0
    const limits = upstreamLimits({ max: 32, now: () => clock })
    const attempt = (upstream: string, ms: number, err?: unknown) => {
      limits.started(upstream)
      limits.finished(upstream, ms, err)
    }
    return { limits, attempt, advance: (ms: number) => (clock += ms) }
  }

  it('halves an upstream that fails (once a second), and grows it back with its successes', () => {
    const { limits, attempt, advance } = setup()
    attempt('chatwoot', 30)
    attempt('chatwoot', 30, new TransientError('chatwoot: HTTP 503'))
    attempt('chatwoot', 30, new TransientError('chatwoot: HTTP 503'))
    expect(limits.limits().chatwoot).toBe(16)
    advance(1_000)
    attempt('chatwoot', 30, new TransientError('chatwoot: HTTP 502'))
    expect(limits.limits().chatwoot).toBe(8)
    // Other upstreams are not affected.
    attempt('whatsapp', 40)
    expect(limits.limits().whatsapp).toBe(32)
    for (let i = 0; i < 200; i++) attempt('chatwoot', 30)
    expect(limits.limits().chatwoot).toBeGreaterThanOrEqual(20)
  })

  it('rests the whole upstream for its Retry-After: it takes no more effects until then', () => {
    const { limits, attempt, advance } = setup()
    attempt('chatwoot', 30, new TransientError('chatwoot: HTTP 429', 2_000))
    expect(limits.resting()).toEqual(['chatwoot'])
    expect(limits.wakesAt()).toBe(2_000)
    advance(2_001)
    expect(limits.resting()).toEqual([])
  })

  it('stops at its limit: a claim takes no more than the room the upstream has', () => {
    const { limits } = setup()
    for (let i = 0; i < 32; i++) limits.started('chatwoot')
    expect(limits.resting()).toEqual(['chatwoot'])
    expect(limits.room(64)).toBe(64)
    limits.finished('chatwoot', 30)
    expect(limits.resting()).toEqual([])
    expect(limits.room(64)).toBe(1)
  })

  it('takes fewer at once when answers slow down (the upstream queues them), not below an eighth', () => {
    const { limits, attempt, advance } = setup()
    for (let i = 0; i < 50; i++) attempt('chatwoot', 30)
    for (let s = 0; s < 60; s++) {
      advance(2_000)
      for (let i = 0; i < 20; i++) attempt('chatwoot', 400)
    }
    expect(limits.limits().chatwoot).toBe(4)
  })
})
