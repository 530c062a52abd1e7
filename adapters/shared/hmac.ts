import { createHmac, timingSafeEqual } from 'node:crypto'

export type HmacAlgorithm = 'sha1' | 'sha256'

export function hmac(
  algorithm: HmacAlgorithm,
  key: string | Buffer,
  data: Buffer | string,
  encoding: 'hex' | 'base64' = 'hex',
): string {
  return createHmac(algorithm, key).update(data).digest(encoding)
}

/**
 * Constant-time string comparison. Different lengths compare false without an early exit
 * on content, so the timing says nothing about how much of a guess was right.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8')
  const b = Buffer.from(expected, 'utf8')
  if (a.length !== b.length) {
    timingSafeEqual(b, b)
    return false
  }
  return timingSafeEqual(a, b)
}

/** Default tolerance for signed timestamps: five minutes either way. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300

/** True when `seconds` (unix time, as sent) is within the tolerance of `now`. */
export function isFresh(
  seconds: string | undefined,
  now: Date,
  toleranceSeconds = TIMESTAMP_TOLERANCE_SECONDS,
): boolean {
  if (!seconds || !/^\d{1,12}$/.test(seconds)) return false
  const delta = Math.abs(now.getTime() / 1000 - Number(seconds))
  return delta <= toleranceSeconds
}
