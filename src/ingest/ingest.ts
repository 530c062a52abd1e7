import type { ChannelEntry, InboundRequest, ParseResult } from '../contracts/channel.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Delivery, type PersistResult, persistDelivery } from '../store/ingest-store.js'
import type { Sql } from '../store/sql.js'

/** Every way a delivery can end. The HTTP route maps these to statuses in one switch. */
export type IngestResult =
  | { outcome: 'accepted'; deliveryId: string | null; messageIds: number[]; triageJobs: number } // 200
  | { outcome: 'duplicate'; deliveryId: string | null } // 200: seen before, nothing new
  | { outcome: 'ignored'; reason: string } // 200: authentic but nothing to do
  | { outcome: 'handshake'; status: 200 | 400 | 403; body: string } // the channel's own answer
  | { outcome: 'unknown_channel' } // 404
  | { outcome: 'channel_disabled'; reason: string } // 401: fail closed without a secret
  | { outcome: 'verification_failed'; reason: string } // 401, reason only logged
  | { outcome: 'invalid_payload'; reason: string } // 400 with the reason
  | { outcome: 'too_large'; limit: number } // 413
  | { outcome: 'rate_limited'; retryAfter: number } // 429: this source sends too fast
  | { outcome: 'overloaded'; retryAfter: number; reason: string } // 503: the hub is behind
  | { outcome: 'store_failed'; error: Error } // 500: the sender retries

export type IngestDeps = {
  db: Sql
  channels: ReadonlyMap<string, ChannelEntry>
  clock: Clock
  logger: Logger
  /** Told after a commit that queued triage work, so the worker wakes at once. */
  onStored?: (result: { messageIds: number[]; triageJobs: number }) => void
  /** How deliveries are written (the hub's group commit); by default one transaction each. */
  persist?: (delivery: Delivery, now: Date) => Promise<PersistResult>
}

type Accepted = Extract<ParseResult, { kind: 'accepted' }>

/**
 * Stores what an adapter accepted: dedupe + store + enqueue in one transaction. Used by the
 * webhook route and by sources that are not HTTP (SMTP receiver, IMAP poller).
 */
export async function acceptDelivery(
  deps: Pick<IngestDeps, 'db' | 'clock' | 'onStored' | 'persist'>,
  channel: string,
  delivery: Omit<Accepted, 'kind' | 'deliveryId'> & { deliveryId: string | null; rawHash: string },
): Promise<IngestResult> {
  try {
    const row: Delivery = {
      channel,
      deliveryId: delivery.deliveryId,
      rawHash: delivery.rawHash,
      messages: delivery.messages,
      events: delivery.events,
    }
    const now = deps.clock.now()
    const result = deps.persist
      ? await deps.persist(row, now)
      : await persistDelivery(deps.db, row, now)
    if (result.outcome === 'duplicate')
      return { outcome: 'duplicate', deliveryId: delivery.deliveryId }
    if (result.messageIds.length === 0 && delivery.events.length === 0) {
      return { outcome: 'duplicate', deliveryId: delivery.deliveryId }
    }
    if (result.triageJobs > 0) deps.onStored?.(result)
    return {
      outcome: 'accepted',
      deliveryId: delivery.deliveryId,
      messageIds: result.messageIds,
      triageJobs: result.triageJobs,
    }
  } catch (err) {
    return { outcome: 'store_failed', error: err as Error }
  }
}

/** The webhook pipeline: resolve → verify (fail closed) → parse → persist. */
export async function ingest(
  deps: IngestDeps,
  channel: string,
  req: InboundRequest,
): Promise<IngestResult> {
  // 1. Resolve the channel.
  const entry = deps.channels.get(channel)
  if (!entry) return { outcome: 'unknown_channel' }
  const { adapter, settings } = entry
  if (!settings.inbound.enabled)
    return { outcome: 'channel_disabled', reason: settings.inbound.reason }
  const now = deps.clock.now()
  // 2. Verify on the raw bytes.
  const verified = adapter.verify(req, settings.config, now)
  if (!verified.ok) return { outcome: 'verification_failed', reason: verified.reason }
  // 3. Parse and normalize.
  let parsed: ParseResult
  try {
    parsed = await adapter.parse(req, settings.config, now)
  } catch (err) {
    // A parser that throws has a bug; the payload is still answered with a 400, never a crash.
    deps.logger.error({ err, channel }, 'adapter parse threw')
    return { outcome: 'invalid_payload', reason: 'payload could not be parsed' }
  }
  switch (parsed.kind) {
    case 'invalid':
      return { outcome: 'invalid_payload', reason: parsed.reason }
    case 'ignored':
      return { outcome: 'ignored', reason: parsed.reason }
    case 'handshake':
      return { outcome: 'handshake', status: parsed.status, body: parsed.body }
    case 'accepted':
      // 4. Dedupe, store, enqueue: one transaction, then the caller acknowledges.
      return acceptDelivery(deps, channel, { ...parsed, rawHash: req.rawHash })
  }
}
