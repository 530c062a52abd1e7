import { createHmac } from 'node:crypto'

/** Headers Chatwoot (≥ 4.11.2) sends with a signed delivery. */
export function chatwootHeaders(
  body: string,
  secret: string,
  options: { timestamp?: number; delivery?: string } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return {
    'content-type': 'application/json',
    'x-chatwoot-timestamp': timestamp,
    'x-chatwoot-signature': `sha256=${signature}`,
    ...(options.delivery ? { 'x-chatwoot-delivery': options.delivery } : {}),
  }
}

/** Headers Tawk.to sends: hex HMAC-SHA1 of the raw body, and the event id kept across retries. */
export function tawkHeaders(body: string, secret: string, eventId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-tawk-signature': createHmac('sha1', secret).update(body).digest('hex'),
    'x-hook-event-id': eventId,
  }
}
