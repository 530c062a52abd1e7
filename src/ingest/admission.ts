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
}) {
  // Overload turns senders away before their body is read: a source over its rate gets 429,
  // and while the triage backlog is over its bound every webhook gets 503 (senders retry).
  const buckets = tokenBuckets({
    rate: options.webhookRate,
    burst: options.webhookRate * 2,
  })
  // Admission is decided before a request's body is read, without waiting for the database:
  // by the backlog as last counted (again in the background when 200 ms old) plus what was
  // queued since that count began.
  let backlog = { at: 0, jobs: 0 }
  let queued = 0
  let counting = false
  const behind = () => {
    const at = Date.now()
    if (at - backlog.at > 200 && !counting) {
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
  const admit = (channel: string, source: string): IngestResult | null => {
    const wait = buckets.take(`${channel}|${source}`)
    if (wait > 0) return { outcome: 'rate_limited', retryAfter: wait }
    if (behind()) return { outcome: 'overloaded', retryAfter: 5, reason: 'triage backlog' }
    return null
  }
  return { admit, behind, onStored }
}
