import axios, { type AxiosInstance, isAxiosError } from 'axios'
import { PermanentError, TransientError } from '../contracts/errors.js'

/**
 * An axios instance bound to one configured base URL: relative paths only (absolute URLs are
 * refused), no redirects followed, a timeout on every call. Outbound HTTP goes nowhere else.
 */
export function boundHttpClient(
  baseURL: string,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): AxiosInstance {
  return axios.create({
    baseURL,
    headers: { 'User-Agent': 'centralita', ...headers },
    timeout: timeoutMs,
    maxRedirects: 0,
    allowAbsoluteUrls: false,
    validateStatus: (status) => status >= 200 && status < 300,
  })
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * Maps a failed call to what the outbox should do: network errors, timeouts, 5xx, 408 and 429
 * are worth retrying (with the upstream's Retry-After); any other 4xx never will be.
 */
export function classifyHttpError(context: string, err: unknown): TransientError | PermanentError {
  if (isAxiosError(err)) {
    const status = err.response?.status
    if (status === undefined) {
      return new TransientError(`${context}: ${err.code ?? 'network error'}`, undefined, {
        cause: err,
      })
    }
    if (status === 408 || status === 429 || status >= 500) {
      return new TransientError(
        `${context}: HTTP ${status}`,
        parseRetryAfter(err.response?.headers?.['retry-after']),
        { cause: err },
      )
    }
    return new PermanentError(`${context}: HTTP ${status}`, { cause: err, status })
  }
  if (err instanceof TransientError || err instanceof PermanentError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new TransientError(`${context}: ${message}`, undefined, { cause: err })
}
