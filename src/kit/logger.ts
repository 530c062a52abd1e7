import { type DestinationStream, type Logger, pino } from 'pino'

export type { Logger } from 'pino'

/**
 * Paths pino replaces with "[redacted]": credentials, personal data and message bodies.
 * Callers log ids, not bodies; this list is the safety net for when one slips through.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["api_access_token"]',
  'req.headers["x-chatwoot-signature"]',
  'req.headers["x-tawk-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["webhook-signature"]',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.signature',
  '*.apiToken',
  '*.accessToken',
  '*.authToken',
  '*.email',
  '*.phone',
  '*.phoneNumber',
  '*.text',
  '*.content',
  '*.body',
  '*.rawBody',
  'email',
  'phone',
  'text',
  'content',
  'body',
  // HTTP client errors carry the request (with its auth headers) and the response.
  'err.config',
  'err.request',
  'err.response',
  'err.cause.config',
  'err.cause.request',
  'err.cause.response',
]

const EMAILS = /[^\s<>"'@,;:()[\]]{1,64}@[^\s<>"'@,;:()[\]]{1,255}\.[a-z]{2,24}/gi
// "+56 9 1234 5678", "+56912345678", "56912345678": what a phone number looks like in a message.
const PHONES = /\+\d(?:[ ]?\d){7,14}|\b\d{9,15}\b/g

/**
 * Error messages written by libraries (an SMTP server's "550 <ana@x.cl>: no such user") can
 * carry a customer's address; the log never does. Emails and phone numbers become placeholders.
 */
export function scrubPersonal(text: string): string {
  return text.replace(EMAILS, '[email]').replace(PHONES, '[phone]')
}

/** Errors as pino writes them, with personal data scrubbed from their message and stack. */
function errorSerializer(err: unknown): unknown {
  if (typeof err === 'string') return scrubPersonal(err)
  const serialized = pino.stdSerializers.err(err as Error) as Record<string, unknown>
  if (!serialized || typeof serialized !== 'object') return serialized
  const out: Record<string, unknown> = { ...serialized }
  for (const key of ['message', 'stack', 'response']) {
    if (typeof out[key] === 'string') out[key] = scrubPersonal(out[key] as string)
  }
  return out
}

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: options.name ?? 'centralita',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: errorSerializer },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}

/** A logger that writes nowhere, for tests and the pure CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' })
