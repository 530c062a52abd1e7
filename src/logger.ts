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

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name: options.name ?? 'centralita',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}

/** A logger that writes nowhere, for tests and the pure CLI commands. */
export const silentLogger: Logger = pino({ level: 'silent' })
