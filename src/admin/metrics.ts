import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { outboxDepth } from '../store/outbox-store.js'
import type { Sql } from '../store/sql.js'

/**
 * The hub's Prometheus metrics (`GET /metrics`: behind `METRICS_TOKEN` when it is set, open to
 * whoever reaches the port otherwise; counts and timings only). Counters are fed by the
 * webhook route, the triage worker, the dispatcher and the SLA clock; the outbox gauges are
 * read from the database at scrape time, so they are right after a restart too.
 */
export function createMetrics(db: Sql, instance: string | null = null) {
  const registry = new Registry()
  // Several instances on one database: each one's figures carry its name.
  if (instance !== null) registry.setDefaultLabels({ instance })
  // Process figures (resident memory, heap, event-loop lag, open handles) with the hub's own.
  collectDefaultMetrics({ register: registry })
  const webhooks = new Counter({
    name: 'centralita_webhooks_total',
    help: 'Webhook requests by channel and outcome (accepted, duplicate, ignored, verification_failed, …).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  })
  const triageSeconds = new Histogram({
    name: 'centralita_triage_duration_seconds',
    help: 'Time to triage one message and queue what follows.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  const decisions = new Counter({
    name: 'centralita_decisions_total',
    help: 'Triage decisions by intent.',
    labelNames: ['intent'] as const,
    registers: [registry],
  })
  const analyses = new Counter({
    name: 'centralita_text_analyses_total',
    help: 'Text analyses of triaged messages by where they were worked out: ahead on the analysis thread, or on the main thread.',
    labelNames: ['where'] as const,
    registers: [registry],
  })
  const attempts = new Counter({
    name: 'centralita_outbox_attempts_total',
    help: 'Outbound action attempts by kind and outcome (done, retry, dead).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  })
  const breaches = new Counter({
    name: 'centralita_sla_breaches_total',
    help: 'SLA breaches fired, by kind (first_response_breach, resolution_breach, breach of an escalation level).',
    labelNames: ['kind'] as const,
    registers: [registry],
  })
  const overBound = new Counter({
    name: 'centralita_stored_over_backlog_bound_total',
    help: 'Deliveries stored while the triage backlog was over MAX_PENDING_TRIAGE, from senders that never deliver again (Chatwoot): alert on any increase.',
    labelNames: ['channel'] as const,
    registers: [registry],
  })
  const readOutbox = () => outboxDepth(db)
  new Gauge({
    name: 'centralita_outbox_depth',
    help: 'Outbound actions waiting to run (pending) or running (in_flight).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await readOutbox()
      this.set({ status: 'pending' }, counts.pending)
      this.set({ status: 'in_flight' }, counts.in_flight)
    },
  })
  new Gauge({
    name: 'centralita_dead_letters',
    help: 'Outbound actions in the dead letter.',
    registers: [registry],
    async collect() {
      this.set((await readOutbox()).dead)
    },
  })

  // A counter with labels hashes and checks them on every `inc`; each label set's child is
  // kept instead (a handful: channels × outcomes, intents), as the counters run per message.
  const webhookCount = children((key) => {
    const [channel, outcome] = key.split('\n') as [string, string]
    return webhooks.labels({ channel, outcome })
  })
  const decisionCount = children((intent) => decisions.labels({ intent }))
  const analysedOnThread = analyses.labels({ where: 'thread' })
  const analysedOnMain = analyses.labels({ where: 'main' })
  // Both series from the start, so a hub without the thread shows its 0.
  analysedOnThread.inc(0)
  analysedOnMain.inc(0)
  return {
    registry,
    webhook: (channel: string, outcome: string) => webhookCount(`${channel}\n${outcome}`).inc(),
    triaged: (t: { intent: string; seconds: number; analysedAhead: boolean }) => {
      triageSeconds.observe(t.seconds)
      decisionCount(t.intent).inc()
      ;(t.analysedAhead ? analysedOnThread : analysedOnMain).inc()
    },
    attempt: (a: { kind: string; outcome: string }) => attempts.inc(a),
    breach: (kind: string) => breaches.inc({ kind }),
    storedOverBound: (channel: string) => overBound.inc({ channel }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

function children<Child>(create: (key: string) => Child): (key: string) => Child {
  const made = new Map<string, Child>()
  return (key) => {
    let child = made.get(key)
    if (child === undefined) {
      child = create(key)
      made.set(key, child)
    }
    return child
  }
}
