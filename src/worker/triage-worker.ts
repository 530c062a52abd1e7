import { planEffects } from '../actions/plan.js'
import type { Clock } from '../clock.js'
import type { ChannelEntry } from '../ingest/ingest.js'
import type { Logger } from '../logger.js'
import { describeMoment, isOpen, nextOpen } from '../sla/business-hours.js'
import type { Db } from '../store/db.js'
import { TRIAGE_JOB } from '../store/ingest-store.js'
import { claimJobs, completeJob, failJob } from '../store/jobs.js'
import { enqueueEffects } from '../store/outbox-store.js'
import {
  countRecentComplaints,
  hasDecision,
  insertDecision,
  loadTriageSubject,
  openTicket,
} from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { type IntentClassifier, triage } from '../triage/triage.js'
import { backoffDelay } from './backoff.js'
import { type Loop, startLoop } from './loop.js'

export type TriageWorkerDeps = {
  db: Db
  clock: Clock
  logger: Logger
  channels: ReadonlyMap<string, ChannelEntry>
  /** The current rulebook (it may be reloaded while the hub runs). */
  rulebook: () => Rulebook
  classifier: () => IntentClassifier | null
  /** Told when effects were queued, so the dispatcher runs them at once. */
  onEffects?: () => void
  batchSize?: number
  /** Safety poll for jobs whose retry time came (new jobs wake the worker directly). */
  pollMs?: number
}

const LEASE_MS = 60_000
const MAX_ATTEMPTS = 5

/** Triages one stored message and queues what follows, in one transaction. */
export function triageMessage(
  deps: TriageWorkerDeps,
  job: { id: number; refId: number },
): 'done' | 'missing' {
  const { db, clock } = deps
  const now = clock.now()
  const subject = loadTriageSubject(db, job.refId)
  if (!subject || hasDecision(db, job.refId)) {
    completeJob(db, job.id, now)
    return 'missing'
  }
  const rulebook = deps.rulebook()
  const settings = rulebook.source.settings
  const { message, contact, conversation } = subject
  const calendar = rulebook.calendarFor(message.channel)
  const inHours = isOpen(calendar, now)
  const decision = triage(
    {
      text: message.text,
      subject: message.subject,
      channel: message.channel,
      role: message.authorRole as never,
      language: (message.language as 'es' | 'en' | null) ?? null,
      context: {
        inHours,
        recentComplaints: countRecentComplaints(
          db,
          contact,
          now.getTime() - settings.repeat_complaints.window,
        ),
        assignedOperator: null,
      },
    },
    rulebook,
    deps.classifier(),
  )
  let queued = 0
  db.transaction((tx) => {
    let ticket: { number: string } | null = null
    if (decision.ticket) {
      const priority = rulebook.source.priorities.priorities[decision.priority]!
      ticket = openTicket(
        tx,
        {
          conversationId: conversation.id,
          messageId: message.id,
          type: decision.ticket,
          priority: decision.priority,
          queue: decision.queue ?? settings.default_queue,
          level: decision.level,
          assignee: decision.assignedOperator,
          firstResponseDueAt: now.getTime() + priority.first_response,
          resolutionDueAt: now.getTime() + priority.resolution,
        },
        now,
      )
    }
    const opens = inHours ? null : nextOpen(calendar, now)
    const plan = planEffects({
      decision,
      subject,
      ticket,
      rulebook,
      channels: deps.channels,
      nextOpen: opens
        ? {
            es: describeMoment(opens, calendar, 'es', now),
            en: describeMoment(opens, calendar, 'en', now),
          }
        : null,
    })
    const recorded = {
      ...decision,
      explanation: {
        ...decision.explanation,
        reasons: [...decision.explanation.reasons, ...plan.notes],
      },
    }
    insertDecision(
      tx,
      { messageId: message.id, conversationId: conversation.id },
      recorded,
      rulebook.version,
      now,
    )
    queued = enqueueEffects(tx, plan.effects, now)
    completeJob(tx, job.id, now)
  })
  deps.logger.info(
    {
      messageId: message.id,
      intent: decision.intent,
      priority: decision.priority,
      level: decision.level,
      effects: queued,
    },
    'message triaged',
  )
  if (queued > 0) deps.onEffects?.()
  return 'done'
}

/** Drains triage jobs: woken on every stored message, polling only as a safety net. */
export function createTriageWorker(deps: TriageWorkerDeps): Loop {
  const batchSize = deps.batchSize ?? 64
  return startLoop({
    name: 'triage',
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1000,
    runOnce: () => {
      const now = deps.clock.now()
      const jobs = claimJobs(deps.db, TRIAGE_JOB, batchSize, now, LEASE_MS)
      for (const job of jobs) {
        try {
          triageMessage(deps, job)
        } catch (err) {
          const retry = job.attempts < MAX_ATTEMPTS
          deps.logger.error(
            { err, jobId: job.id, messageId: job.refId, attempt: job.attempts },
            'triage failed',
          )
          failJob(
            deps.db,
            job.id,
            err instanceof Error ? err.message : String(err),
            retry
              ? new Date(
                  now.getTime() + backoffDelay(job.attempts, { baseMs: 1000, maxMs: 60_000 }),
                )
              : null,
            now,
          )
        }
      }
      return jobs.length === batchSize ? 'more' : 'idle'
    },
  })
}
