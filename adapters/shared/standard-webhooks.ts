import { hmac, isFresh, safeEqual } from './hmac.js'

// Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix seconds) and
// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several space-separated
// signatures allowed (key rotation). Secrets are "whsec_<base64 key>"; any other string is used
// as the key's UTF-8 bytes.

/**
 * Why a secret cannot sign deliveries, or null. A "whsec_" secret must be base64 of at least
 * 16 bytes: Node decodes what is not base64 to nothing, and a key of no bytes would accept
 * signatures anyone can compute.
 */
export function weakSecret(secret: string): string | null {
  if (!secret.startsWith('whsec_')) return secret.length >= 16 ? null : 'shorter than 16 characters'
  const encoded = secret.slice(6)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'whsec_ must be followed by base64'
  return secretKey(secret).length >= 16 ? null : 'its base64 key decodes to fewer than 16 bytes'
}

export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice(6), 'base64')
    : Buffer.from(secret, 'utf8')
}

export function sign(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)])
  return `v1,${hmac('sha256', secretKey(secret), signed, 'base64')}`
}

export type StandardHeaders = { id?: string; timestamp?: string; signature?: string }

type Checked = { ok: true } | { ok: false; reason: string }

/** What is known before the body: the id present, the timestamp within five minutes, a signature. */
export function checkStandardHead(headers: StandardHeaders, now: Date): Checked {
  const { id, timestamp, signature } = headers
  if (!id || !timestamp || !signature)
    return { ok: false, reason: 'missing webhook-id, -timestamp or -signature' }
  if (id.length > 256) return { ok: false, reason: 'webhook-id too long' }
  if (!isFresh(timestamp, now)) return { ok: false, reason: 'stale or malformed webhook-timestamp' }
  return { ok: true }
}

/** Checks a delivery: the id present, the timestamp within five minutes, one signature matching. */
export function verifyStandardWebhook(
  secret: string,
  headers: StandardHeaders,
  body: Buffer,
  now: Date,
): Checked {
  const head = checkStandardHead(headers, now)
  if (!head.ok) return head
  const { id, timestamp, signature } = headers as Required<StandardHeaders>
  const expected = sign(secret, id, timestamp, body)
  const given = signature.split(' ').filter((s) => s.startsWith('v1,'))
  // Compare every candidate, so the time taken does not tell which one matched.
  let match = false
  for (const candidate of given.slice(0, 10)) if (safeEqual(candidate, expected)) match = true
  return match ? { ok: true } : { ok: false, reason: 'bad signature' }
}

/** The headers of a signed delivery the hub sends. */
export function signedHeaders(
  secret: string,
  id: string,
  body: string,
  now: Date,
): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000))
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': sign(secret, id, timestamp, body),
  }
}
