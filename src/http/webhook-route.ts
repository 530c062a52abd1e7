import { randomUUID } from 'node:crypto'
import type { Request, Response } from 'express'
import type { InboundRequest } from '../../adapters/types.js'
import { type IngestDeps, type IngestResult, ingest } from '../ingest/ingest.js'
import type { Logger } from '../logger.js'
import { sha256Hex } from '../normalized-message.js'
import { readRawBody } from './read-raw-body.js'

export type WebhookRouteOptions = {
  deps: IngestDeps
  logger: Logger
  /** Body limit for a channel, in bytes. */
  bodyLimit: (channel: string) => number
  /**
   * Admission before the body is read: a source over its rate (429) or a hub that is behind
   * (503) is turned away at once, so overload costs no memory. Null admits.
   */
  admit?: (channel: string, source: string) => IngestResult | null
  /** Requests handled at once; past this, 503. */
  maxInflight?: number
  /** Told of every answered request (metrics). */
  observe?: (channel: string, outcome: string) => void
}

function flatten(record: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') out[key.toLowerCase()] = value
    else if (Array.isArray(value) && typeof value[0] === 'string') out[key.toLowerCase()] = value[0]
  }
  return out
}

/** The only place an ingest outcome becomes an HTTP status. */
export function sendOutcome(res: Response, result: IngestResult): void {
  switch (result.outcome) {
    case 'accepted':
      res.status(200).json({ ok: true, outcome: 'accepted', messages: result.messageIds.length })
      return
    case 'duplicate':
      res.status(200).json({ ok: true, outcome: 'duplicate' })
      return
    case 'ignored':
      res.status(200).json({ ok: true, outcome: 'ignored' })
      return
    case 'handshake':
      res.status(result.status).type('text/plain').send(result.body)
      return
    case 'unknown_channel':
      res.status(404).json({ error: 'unknown_channel' })
      return
    case 'channel_disabled':
    case 'verification_failed':
      res.status(401).json({ error: 'unauthorized' })
      return
    case 'invalid_payload':
      res.status(400).json({ error: 'invalid_payload', reason: result.reason })
      return
    case 'too_large':
      res
        .status(413)
        .set('Connection', 'close')
        .json({ error: 'payload_too_large', limit: result.limit })
      return
    case 'rate_limited':
      res.status(429).set('Retry-After', String(result.retryAfter)).json({ error: 'rate_limited' })
      return
    case 'overloaded':
      res
        .status(503)
        .set('Retry-After', String(result.retryAfter))
        .json({ error: 'overloaded', reason: result.reason })
      return
    case 'store_failed':
      res.status(500).json({ error: 'internal_error' })
      return
    default: {
      const unreachable: never = result
      throw new Error(`unhandled ingest outcome ${JSON.stringify(unreachable)}`)
    }
  }
}

function logOutcome(log: Logger, result: IngestResult): void {
  switch (result.outcome) {
    case 'accepted':
      log.info(
        { outcome: result.outcome, deliveryId: result.deliveryId, messageIds: result.messageIds },
        'webhook accepted',
      )
      return
    case 'store_failed':
      log.error({ outcome: result.outcome, err: result.error }, 'webhook not stored')
      return
    case 'channel_disabled':
      log.warn({ outcome: result.outcome, reason: result.reason }, 'webhook for disabled channel')
      return
    case 'duplicate':
      log.info({ outcome: result.outcome, deliveryId: result.deliveryId }, 'webhook duplicate')
      return
    case 'verification_failed':
    case 'invalid_payload':
    case 'ignored':
      log.info({ outcome: result.outcome, reason: result.reason }, 'webhook not accepted')
      return
    default:
      log.info({ outcome: result.outcome }, 'webhook answered')
  }
}

/** `GET|POST /webhooks/:channel`: raw body with a size cap → ingest → one status. */
export function webhookRoute(options: WebhookRouteOptions) {
  let inflight = 0
  const maxInflight = options.maxInflight ?? Number.POSITIVE_INFINITY
  return async function webhook(req: Request, res: Response): Promise<void> {
    if (inflight >= maxInflight) {
      req.resume()
      sendOutcome(res, {
        outcome: 'overloaded',
        retryAfter: 1,
        reason: 'too many requests in progress',
      })
      return
    }
    inflight++
    try {
      await handle(req, res)
    } finally {
      inflight--
    }
  }

  async function handle(req: Request, res: Response): Promise<void> {
    const channel = String(req.params.channel)
    const log = options.logger.child({ reqId: req.get('x-request-id') ?? randomUUID(), channel })
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.status(405).set('Allow', 'GET, POST').json({ error: 'method_not_allowed' })
      return
    }
    if (
      !options.deps.channels.has(channel) ||
      options.deps.channels.get(channel)?.adapter.outboundOnly
    ) {
      req.resume()
      sendOutcome(res, { outcome: 'unknown_channel' })
      return
    }
    const turnedAway = options.admit?.(channel, req.ip ?? req.socket.remoteAddress ?? 'unknown')
    if (turnedAway) {
      req.resume()
      logOutcome(log, turnedAway)
      options.observe?.(channel, turnedAway.outcome)
      sendOutcome(res, turnedAway)
      return
    }
    const limit = options.bodyLimit(channel)
    const raw = await readRawBody(req, limit)
    let result: IngestResult
    if (!raw.ok) {
      if (raw.reason === 'aborted') return
      result = { outcome: 'too_large', limit }
    } else {
      const inbound: InboundRequest = {
        method: req.method,
        rawBody: raw.body,
        rawHash: sha256Hex(raw.body),
        headers: flatten(req.headers),
        query: flatten(req.query as Record<string, unknown>),
      }
      result = await ingest({ ...options.deps, logger: log }, channel, inbound)
    }
    logOutcome(log, result)
    options.observe?.(channel, result.outcome)
    sendOutcome(res, result)
  }
}
