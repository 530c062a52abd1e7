import { Pool } from 'undici'
import { PermanentError, TransientError } from '../contracts/errors.js'

/** An upstream's answer outside 2xx, or a call that got no answer (`status` undefined). */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly headers: Record<string, string | string[] | undefined> = {},
    /** For a call that got no answer: why (`ECONNREFUSED`, `timeout`…). */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

type CallOptions = {
  headers?: Record<string, string>
  /** Query parameters, added to the path. */
  params?: Record<string, string>
}

export type HttpClient = {
  get<T = unknown>(path: string, options?: CallOptions): Promise<{ status: number; data: T }>
  /** An object is sent as JSON; a string as is (say its content-type in `headers`). */
  post<T = unknown>(
    path: string,
    body: unknown,
    options?: CallOptions,
  ): Promise<{ status: number; data: T }>
}

/**
 * An HTTP client bound to one configured base URL (undici, a pool of kept-alive connections):
 * relative paths only (absolute URLs are refused), no redirects followed (a 3xx is an error),
 * a time limit on every call. Outbound HTTP goes nowhere else.
 */
export function boundHttpClient(
  baseURL: string,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): HttpClient {
  const base = new URL(baseURL)
  const prefix = base.pathname.replace(/\/+$/, '')
  const pool = new Pool(base.origin, { connections: 128, keepAliveTimeout: 4_000 })
  const common = { 'user-agent': 'centralita', ...lower(headers) }
  const call = async <T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: CallOptions = {},
  ): Promise<{ status: number; data: T }> => {
    if (!path.startsWith('/') || path.startsWith('//'))
      throw new HttpError(`refused: ${path.slice(0, 80)} is not a path`, undefined, {}, 'EBADPATH')
    const query = options.params ? `?${new URLSearchParams(options.params).toString()}` : ''
    const json = body !== undefined && typeof body !== 'string'
    const sent = json ? JSON.stringify(body) : (body as string | undefined)
    let answer: Awaited<ReturnType<Pool['request']>>
    try {
      answer = await pool.request({
        method,
        path: `${prefix}${path}${query}`,
        headers: {
          ...common,
          ...(json ? { 'content-type': 'application/json' } : {}),
          ...lower(options.headers ?? {}),
        },
        ...(sent !== undefined ? { body: sent } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw noAnswer(method, path, err)
    }
    let text: string
    try {
      text = await answer.body.text()
    } catch (err) {
      throw noAnswer(method, path, err)
    }
    if (answer.statusCode < 200 || answer.statusCode >= 300)
      throw new HttpError(`${method} ${path}: HTTP ${answer.statusCode}`, answer.statusCode, {
        ...answer.headers,
      })
    return { status: answer.statusCode, data: parse(text) as T }
  }
  return {
    get: (path, options) => call('GET', path, undefined, options),
    post: (path, body, options) => call('POST', path, body, options),
  }
}

function noAnswer(method: string, path: string, err: unknown): HttpError {
  const named = err as { code?: string; name?: string }
  const code =
    named.name === 'TimeoutError' || named.name === 'AbortError'
      ? 'timeout'
      : (named.code ?? 'network error')
  return new HttpError(`${method} ${path}: ${code}`, undefined, {}, code, { cause: err })
}

/** JSON when it is JSON, the text otherwise (some upstreams answer plain text). */
function parse(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function lower(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (Array.isArray(value)) return parseRetryAfter(value[0], now)
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
  if (err instanceof HttpError) {
    const status = err.status
    if (err.code === 'EBADPATH') return new PermanentError(`${context}: ${err.message}`)
    if (status === undefined) {
      return new TransientError(`${context}: ${err.code ?? 'network error'}`, undefined, {
        cause: err,
      })
    }
    if (status === 408 || status === 429 || status >= 500) {
      return new TransientError(
        `${context}: HTTP ${status}`,
        parseRetryAfter(err.headers['retry-after']),
        { cause: err },
      )
    }
    return new PermanentError(`${context}: HTTP ${status}`, { cause: err, status })
  }
  if (err instanceof TransientError || err instanceof PermanentError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new TransientError(`${context}: ${message}`, undefined, { cause: err })
}
