import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseQuery } from 'node:querystring'
import type { ChannelEntry, InboundRequest, RequestHead } from '../contracts/channel.js'
import { sha256Hex } from '../contracts/message.js'
import { type IngestDeps, type IngestResult, ingest } from '../ingest/ingest.js'
import type { Logger } from '../kit/logger.js'
import { readRawBody } from './read-raw-body.js'

// Webhooks are the hub's hot path, so they are served by plain `node:http` in front of
// express (see app.ts): express's per-request work (prototype swaps on req and res, the
// router, `res.json`) is most of what a bare express endpoint costs and a large share of a
// whole message's processing (docs/performance.md). The route keeps
// express's semantics: the path is matched case-insensitively with an optional trailing
// slash, the query string is parsed by `node:querystring` (express 5's default), and with
// TRUST_PROXY the client address is the X-Forwarded-For entry the proxies added.
//
// What can be refused without reading the body is refused first: a disabled channel, a request
// whose signature header is missing or stale (`checkHead`), a source over its rate, an address
// that already has its share of requests in flight. A body that stops coming is given up.

export type WebhookRouteOptions = {
  deps: IngestDeps
  logger: Logger
  /** Body limit for a channel, in bytes. */
  bodyLimit: (channel: string) => number
  /**
   * Admission before the body is read: a source over its rate (429) or a hub that is behind
   * (503) is turned away at once, so overload costs no memory. Null admits.
   */
  admit?: (channel: string, source: string, redelivers: boolean) => IngestResult | null
  /** Requests handled at once; past this, 503. */
  maxInflight?: number
  /** Of those, at most this many from one address; past this, 503. */
  maxInflightPerAddress?: number
  /** A body whose next piece takes longer than this is given up (the socket is closed). */
  bodyIdleMs?: number
  /** Told of every answered request (metrics). */
  observe?: (channel: string, outcome: string) => void
  /** Reverse proxies in front of the hub: the client address is the entry they added. */
  trustProxy?: number
}

export const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/i

/** The channel named by a `/webhooks/:channel` URL, or null for any other URL. */
export function webhookChannel(url: string): string | null {
  const query = url.indexOf('?')
  const match = WEBHOOK_PATH.exec(query < 0 ? url : url.slice(0, query))
  if (!match) return null
  try {
    return decodeURIComponent(match[1]!)
  } catch {
    return match[1]! // not a channel name either way: answered 404
  }
}

/**
 * The address a source is rate-limited by. Behind `proxies` reverse proxies, each appends the
 * address it got the request from to X-Forwarded-For: the client is the entry the outermost
 * one added, `proxies` from the right. Entries left of it are whatever the client wrote.
 */
export function clientAddress(req: IncomingMessage, proxies: number): string {
  if (proxies > 0) {
    const header = req.headers['x-forwarded-for']
    const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    const added = entries[entries.length - proxies] ?? entries[0]
    if (added) return added
  }
  return req.socket.remoteAddress ?? 'unknown'
}

function flatten(record: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') out[key.toLowerCase()] = value
    else if (Array.isArray(value) && typeof value[0] === 'string') out[key.toLowerCase()] = value[0]
  }
  return out
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** The only place an ingest outcome becomes an HTTP status. */
export function sendOutcome(res: ServerResponse, result: IngestResult): void {
  switch (result.outcome) {
    case 'accepted':
      send(res, 200, { ok: true, outcome: 'accepted', messages: result.messageIds.length })
      return
    case 'duplicate':
      send(res, 200, { ok: true, outcome: 'duplicate' })
      return
    case 'ignored':
      send(res, 200, { ok: true, outcome: 'ignored' })
      return
    case 'handshake':
      res.writeHead(result.status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(result.body),
      })
      res.end(result.body)
      return
    case 'unknown_channel':
      send(res, 404, { error: 'unknown_channel' })
      return
    case 'channel_disabled':
    case 'verification_failed':
      send(res, 401, { error: 'unauthorized' })
      return
    case 'invalid_payload':
      send(res, 400, { error: 'invalid_payload', reason: result.reason })
      return
    case 'too_large':
      send(res, 413, { error: 'payload_too_large', limit: result.limit }, { connection: 'close' })
      return
    case 'rate_limited':
      send(res, 429, { error: 'rate_limited' }, { 'retry-after': String(result.retryAfter) })
      return
    case 'overloaded':
      send(
        res,
        503,
        { error: 'overloaded', reason: result.reason },
        { 'retry-after': String(result.retryAfter) },
      )
      return
    case 'store_failed':
      send(res, 500, { error: 'internal_error' })
      return
    default: {
      const unreachable: never = result
      throw new Error(`unhandled ingest outcome ${JSON.stringify(unreachable)}`)
    }
  }
}

type LogLine = {
  level: 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

/** What the log says about an answered webhook. */
function outcomeLine(result: IngestResult): LogLine {
  switch (result.outcome) {
    case 'accepted':
      return {
        level: 'info',
        fields: { deliveryId: result.deliveryId, messageIds: result.messageIds },
        message: 'webhook accepted',
      }
    case 'store_failed':
      return { level: 'error', fields: { err: result.error }, message: 'webhook not stored' }
    case 'channel_disabled':
      return {
        level: 'warn',
        fields: { reason: result.reason },
        message: 'webhook for disabled channel',
      }
    case 'duplicate':
      return {
        level: 'info',
        fields: { deliveryId: result.deliveryId },
        message: 'webhook duplicate',
      }
    case 'verification_failed':
    case 'invalid_payload':
    case 'ignored':
      return { level: 'info', fields: { reason: result.reason }, message: 'webhook not accepted' }
    default:
      return { level: 'info', fields: {}, message: 'webhook answered' }
  }
}

/**
 * One line per answered webhook. The request's fields (`reqId`, `channel`) are built only when
 * the line is written: a pino child logger per request redacts its bindings on every webhook,
 * logged or not.
 */
function logOutcome(
  log: Logger,
  request: () => { reqId: string; channel: string },
  result: IngestResult,
): void {
  const { level, fields, message } = outcomeLine(result)
  if (!log.isLevelEnabled(level)) return
  log[level]({ ...request(), outcome: result.outcome, ...fields }, message)
}

/** What ends a request before its body is read, or null to read it. */
function earlyOutcome(
  options: WebhookRouteOptions,
  entry: ChannelEntry,
  head: RequestHead,
  channel: string,
  address: string,
): IngestResult | null {
  const { adapter, settings } = entry
  if (!settings.inbound.enabled)
    return { outcome: 'channel_disabled', reason: settings.inbound.reason }
  const checked = adapter.checkHead(head, settings.config, options.deps.clock.now())
  if (!checked.ok) return { outcome: 'verification_failed', reason: checked.reason }
  return options.admit?.(channel, address, adapter.redelivers !== false) ?? null
}

/** `GET|POST /webhooks/:channel`: raw body with a size cap → ingest → one status. */
export function webhookRoute(options: WebhookRouteOptions) {
  let inflight = 0
  const maxInflight = options.maxInflight ?? Number.POSITIVE_INFINITY
  const perAddress = options.maxInflightPerAddress ?? Number.POSITIVE_INFINITY
  const trustProxy = options.trustProxy ?? 0
  /** Requests in flight per client address (only addresses with some). */
  const byAddress = new Map<string, number>()
  /** Never rejects: a failure is logged and answered 500 (or the connection closed). */
  return async function webhook(
    req: IncomingMessage,
    res: ServerResponse,
    channel: string,
  ): Promise<void> {
    const address = clientAddress(req, trustProxy)
    const mine = byAddress.get(address) ?? 0
    // A sender that never delivers again (Chatwoot) is not held to the per-address bound, and
    // has twice the room overall: a refusal loses its message. Memory stays bounded.
    const once = options.deps.channels.get(channel)?.adapter.redelivers === false
    const over = once ? inflight >= 2 * maxInflight : inflight >= maxInflight || mine >= perAddress
    if (over) {
      refuse(req, res, {
        outcome: 'overloaded',
        retryAfter: 1,
        reason: 'too many requests in progress',
      })
      return
    }
    inflight++
    byAddress.set(address, mine + 1)
    try {
      await handle(req, res, channel, address)
    } catch (err) {
      // A bug, not an input: express's error handler did the same for the route before.
      options.logger.error({ err, channel }, 'request failed')
      if (res.headersSent) res.destroy()
      else send(res, 500, { error: 'internal_error' })
    } finally {
      inflight--
      const left = (byAddress.get(address) ?? 1) - 1
      if (left > 0) byAddress.set(address, left)
      else byAddress.delete(address)
    }
  }

  /** Answers without reading the body, and closes the connection after the answer. */
  function refuse(req: IncomingMessage, res: ServerResponse, result: IngestResult) {
    req.resume()
    res.setHeader('connection', 'close')
    sendOutcome(res, result)
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    channel: string,
    address: string,
  ) {
    const requestId = req.headers['x-request-id']
    const log = options.logger
    const request = () => ({
      reqId: typeof requestId === 'string' ? requestId : randomUUID(),
      channel,
    })
    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'POST') {
      req.resume()
      send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, POST' })
      return
    }
    const entry = options.deps.channels.get(channel)
    if (!entry || entry.adapter.outboundOnly) {
      req.resume()
      sendOutcome(res, { outcome: 'unknown_channel' })
      return
    }
    const url = req.url ?? ''
    const queryAt = url.indexOf('?')
    const head: RequestHead = {
      method,
      headers: flatten(req.headers),
      query: queryAt < 0 ? {} : flatten(parseQuery(url.slice(queryAt + 1))),
    }
    // Refused before a byte of the body is read: the channel is off, the request cannot be
    // authentic, or its source is over its rate.
    const turnedAway = earlyOutcome(options, entry, head, channel, address)
    if (turnedAway) {
      logOutcome(log, request, turnedAway)
      options.observe?.(channel, turnedAway.outcome)
      refuse(req, res, turnedAway)
      return
    }
    const limit = options.bodyLimit(channel)
    const raw = await readRawBody(req, limit, options.bodyIdleMs)
    let result: IngestResult
    if (!raw.ok) {
      if (raw.reason === 'aborted') return
      result = { outcome: 'too_large', limit }
    } else {
      const inbound: InboundRequest = {
        ...head,
        rawBody: raw.body,
        rawHash: sha256Hex(raw.body),
      }
      result = await ingest(options.deps, channel, inbound)
    }
    logOutcome(log, request, result)
    options.observe?.(channel, result.outcome)
    sendOutcome(res, result)
  }
}
