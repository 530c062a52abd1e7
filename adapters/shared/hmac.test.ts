import { describe, expect, it } from 'vitest'
import { hmac, isFresh, safeEqual } from './hmac.js'

describe('hmac', () => {
  it('matches the RFC 4231 test case 2 vector for HMAC-SHA256', () => {
    expect(hmac('sha256', 'Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  it('matches the RFC 2202 test case 2 vector for HMAC-SHA1', () => {
    expect(hmac('sha1', 'Jefe', 'what do ya want for nothing?')).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    )
  })
})

describe('safeEqual', () => {
  it('is true only for identical strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true)
    expect(safeEqual('abd', 'abc')).toBe(false)
    expect(safeEqual('ab', 'abc')).toBe(false)
    expect(safeEqual('', 'abc')).toBe(false)
  })
})

describe('isFresh', () => {
  const now = new Date('2026-11-20T10:00:00Z')
  const ts = (offsetSeconds: number) => String(now.getTime() / 1000 + offsetSeconds)

  it('accepts timestamps within five minutes either way', () => {
    expect(isFresh(ts(0), now)).toBe(true)
    expect(isFresh(ts(-300), now)).toBe(true)
    expect(isFresh(ts(299), now)).toBe(true)
  })

  it('rejects stale, future and malformed timestamps', () => {
    expect(isFresh(ts(-301), now)).toBe(false)
    expect(isFresh(ts(301), now)).toBe(false)
    expect(isFresh('12ab', now)).toBe(false)
    expect(isFresh(undefined, now)).toBe(false)
  })
})
