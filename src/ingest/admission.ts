import { tokenBuckets } from '../http/rate-limit.js'
import type { Logger } from '../kit/logger.js'
import type { Sql } from '../store/sql.js'
import { triageBacklog } from '../store/triage-queue.js'
import type { IngestResult } from './ingest.js'

/**
 * Who may send now: admission of deliveries before their body is read. A source over its rate
 * gets 429; while the triage backlog is over its bound every sender gets 503 (they retry), the
 * SMTP receiver 451, and the mailbox pollers wait.
 */
export function createAdmission(options: {
  sql: Sql
  logger: Logger
  webhookRate: number
  pendingTriage: number
  /** Deliveries queued triage work (the worker wakes). */
  onQueued: () => void
  /** A delivery let in over the backlog's bound (a sender that never retries). */
  onOverBound?: (channel: string) => void
}) {
  // Overload turns senders away before their body is read: a source over its rate gets 429,
  // and while the triage backlog is over its bound every webhook gets 503 (senders retry).
  const buckets = tokenBuckets({
    rate: options.webhookRate,
    burst: options.webhookRate * 2,
  })
  // Admission is decided before a request's body is read, without waiting for the database:
  // by the backlog as last counted plus what was queued since that count began. The count is
  // taken again in the background when 200 ms old, or 1 s while it stood under half the
  // bound: it reads every waiting message's index entry (7 ms for 10,000 on PostgreSQL, taken
  // by every instance), and a second at the hub's top pace adds a few thousand at most, which
  // the default bound's other half holds.
  let backlog = { at: 0, jobs: 0 }
  let queued = 0
  let counting = false
  const behind = () => {
    const at = Date.now()
    const refreshMs = backlog.jobs * 2 < options.pendingTriage ? 1000 : 200
    if (at - backlog.at > refreshMs && !counting) {
      counting = true
      const queuedBefore = queued
      triageBacklog(options.sql)
        .then((jobs) => {
          backlog = { at: Date.now(), jobs: jobs + queued - queuedBefore }
        })
        .catch((err: unknown) => options.logger.warn({ err }, 'could not count the triage backlog'))
        .finally(() => {
          counting = false
        })
    }
    return backlog.jobs >= options.pendingTriage
  }
  const onStored = (result: { triageJobs: number }) => {
    queued += result.triageJobs
    backlog = { ...backlog, jobs: backlog.jobs + result.triageJobs }
    options.onQueued()
  }
  // A sender that never delivers again (Chatwoot) is always let in: turning it away loses the
  // message. Its bound is the backlog's, said loudly (a warning at most every 10 s, and
  // /metrics) rather than enforced.
  let warnedAt = 0
  const admit = (channel: string, source: string, redelivers = true): IngestResult | null => {
    if (!redelivers) {
      if (behind()) {
        options.onOverBound?.(channel)
        if (Date.now() - warnedAt > 10_000) {
          warnedAt = Date.now()
          options.logger.warn(
            { channel, backlog: backlog.jobs, bound: options.pendingTriage },
            'triage backlog over its bound (MAX_PENDING_TRIAGE): still storing this channel, which never delivers again',
          )
        }
      }
      return null
    }
    const wait = buckets.take(`${channel}|${source}`)
    if (wait > 0) return { outcome: 'rate_limited', retryAfter: wait }
    if (behind()) return { outcome: 'overloaded', retryAfter: 5, reason: 'triage backlog' }
    return null
  }
  return { admit, behind, onStored }
}
