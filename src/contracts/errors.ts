/** Bad configuration found at boot: the message names the variable or file to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * An outbound call failed in a way that may succeed later (network error, 5xx, 408, 429).
 * `retryAfterMs` carries the upstream's Retry-After when it gave one.
 */
export class TransientError extends Error {
  override name = 'TransientError'
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * An outbound call was refused for good (4xx other than 408/429): retrying cannot help.
 * `status` is the upstream's HTTP status when it answered one.
 */
export class PermanentError extends Error {
  override name = 'PermanentError'
  readonly status: number | undefined
  constructor(message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options)
    this.status = options?.status
  }
}

/** Wraps an unknown thrown value with a context prefix, keeping it as `cause`. */
export function wrapError(context: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err)
  return new Error(`${context}: ${message}`, { cause: err })
}
