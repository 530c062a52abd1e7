/**
 * Token buckets keyed by source (a channel and a sending address): `rate` tokens a second, up
 * to `burst`. Memory stays bounded: past `maxKeys` sources, the least recently seen is dropped.
 */
export function tokenBuckets(options: {
  rate: number
  burst: number
  maxKeys?: number
  now?: () => number
}) {
  const maxKeys = options.maxKeys ?? 10_000
  const now = options.now ?? (() => performance.now())
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    /** Takes a token for `key`: 0 when allowed, else the seconds until one is available. */
    take(key: string): number {
      const t = now()
      let bucket = buckets.get(key)
      if (bucket) {
        buckets.delete(key) // re-inserted below: the map stays ordered by last use
        bucket.tokens = Math.min(
          options.burst,
          bucket.tokens + ((t - bucket.at) / 1000) * options.rate,
        )
        bucket.at = t
      } else {
        bucket = { tokens: options.burst, at: t }
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!)
      }
      buckets.set(key, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / options.rate))
    },
    get size() {
      return buckets.size
    },
  }
}
