import { levelReason } from '../actions/decision-note.js'
import { planEffects, type ReplyHistory, recipientOf } from '../actions/plan.js'
import { planRelay } from '../actions/relay.js'
import { satisfactionFrom } from '../actions/survey.js'
import { routeWithinCase } from '../actions/within-case.js'
import type { ReplyTools } from '../contracts/channel.js'
import type { ChannelEntry } from '../ingest/ingest.js'
import { backoffDelay } from '../kit/backoff.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import { settleForPlan } from '../pipeline/settle.js'
import { deadline, escalateTicket } from '../sla/escalation.js'
import { type Db, type Executor, writeTransaction } from '../store/db.js'
import { countAutomaticEffects, enqueueEffects } from '../store/outbox-store.js'
import {
  decidedLanguage,
  latestCustomerMessage,
  type RelayTarget,
  recordRelay,
  relayRefusal,
  relayTarget,
} from '../store/relay-store.js'
import { getTicket, pendingSurvey, recordSatisfaction } from '../store/ticket-store.js'
import {
  type QueuedMessage,
  readCursor,
  type TriageQueueSlice,
  triageQueueSlice,
} from '../store/triage-queue.js'
import {
  countRecentComplaints,
  hasDecision,
  insertDecision,
  loadTriageSubject,
  moreUrgentSince,
  onceADayReplies,
  openTicket,
  openTicketOfConversation,
  type TriageSubject,
} from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Priority } from '../triage/rulebook/schema.js'
import type { Decision, IntentClassifier, TextAnalysis } from '../triage/triage.js'
import { decide } from './decide.js'
import type { TextAnalyses } from './text-analysis.js'

export type TriageWorkerDeps = {
  db: Db
  clock: Clock
  logger: Logger
  channels: ReadonlyMap<string, ChannelEntry>
  /** The current rulebook (it may be reloaded while the hub runs). */
  rulebook: () => Rulebook
  classifier: () => IntentClassifier | null
  /** Ways to answer besides the message's own channel (email for Tawk.to visitors). */
  tools: ReplyTools
  /** Told after each triaged message (tickets and escalations may have changed). */
  onTriaged?: (triaged: { intent: string; seconds: number; analysedAhead: boolean }) => void
  /** Told when effects were queued, so the dispatcher runs them at once. */
  onEffects?: () => void
  batchSize?: number
  /** Longest stretch (ms) the worker holds the event loop before letting requests in. */
  sliceMs?: number
  /** Safety poll for jobs whose retry time came (new jobs wake the worker directly). */
  pollMs?: number
  /**
   * Whether webhook deliveries wait for their commit: a slice then lets that commit (and the
   * acknowledgements) go first, for at most `yieldMs` in a row.
   */
  acknowledgementsWaiting?: () => boolean
  yieldMs?: number
  /** Text analyses worked out ahead on another thread, when the hub runs one. */
  analyses?: TextAnalyses
}

/** How long after a ticket's survey a bare 1–5 from the customer counts as its answer. */
const SURVEY_WINDOW_MS = 7 * 86_400_000
const MAX_ATTEMPTS = 5

/** Recent automatic messages and agent activity, for the reply caps. */
function replyHistory(
  deps: TriageWorkerDeps,
  subject: TriageSubject,
  rulebook: Rulebook,
  now: Date,
): ReplyHistory {
  const caps = rulebook.settings.automatic_replies
  const since = now.getTime() - caps.window
  return {
    automaticToConversation: countAutomaticEffects(
      deps.db,
      { conversationId: subject.conversation.id },
      since,
    ),
    automaticToRecipient: countAutomaticEffects(
      deps.db,
      { recipient: recipientOf(subject) },
      since,
    ),
    onceADay: () =>
      onceADayReplies(deps.db, subject.conversation.id, now.getTime() - caps.out_of_hours_every),
    lastAgentReplyAt: subject.conversation.lastAgentReplyAt,
  }
}

/** Whether the conversation got an answer (automatic, or from a person) within `window`. */
function answeredLately(history: ReplyHistory, now: Date, window: number): boolean {
  if (history.automaticToConversation > 0) return true
  return history.lastAgentReplyAt !== null && now.getTime() - history.lastAgentReplyAt < window
}

/** The conversation's case for a decision with a ticket: the open one, or a new one. */
function openCase(
  tx: Executor,
  subject: TriageSubject,
  decision: Decision,
  before: { id: number; number: string } | null,
  rulebook: Rulebook,
  now: Date,
): { id: number; number: string; created: boolean } {
  if (before) return { id: before.id, number: before.number, created: false }
  const { message, conversation } = subject
  const priority = rulebook.priority(decision.priority)
  const due = (ms: number) =>
    deadline(rulebook, message.channel, now.getTime(), ms, priority.business_hours)
  return openTicket(
    tx,
    {
      conversationId: conversation.id,
      messageId: message.id,
      type: decision.ticket ?? 'consulta',
      priority: decision.priority,
      queue: decision.queue ?? rulebook.settings.default_queue,
      // The level is set by the escalation that follows, with its record and SLA.
      level: null,
      assignee: decision.assignedOperator,
      firstResponseDueAt: due(priority.first_response),
      resolutionDueAt: due(priority.resolution),
    },
    now,
  )
}

/** A person's answer to a conversation: sent on to the customer, never triaged. */
function relayAnswer(
  deps: TriageWorkerDeps,
  answer: TriageSubject,
  target: RelayTarget,
  now: Date,
): number {
  const { db } = deps
  const actor = answer.contact.email ?? `${answer.message.channel}:${answer.contact.externalId}`
  const refused = target.notification
    ? relayRefusal(answer, target.notification, deps.rulebook().queues)
    : null
  if (refused) {
    writeTransaction(db, (tx) => {
      recordRelay(
        tx,
        {
          messageId: answer.message.id,
          conversationId: target.conversationId,
          actor,
          outcome: 'refused',
          reason: refused,
        },
        now,
      )
    })
    deps.logger.warn(
      { messageId: answer.message.id, conversationId: target.conversationId },
      'answer refused',
    )
    return 0
  }
  // The customer the notification was about; an answer in a mirror answers the latest one.
  const customerId =
    target.notification?.about ??
    latestCustomerMessage(db, target.conversationId, answer.message.id)
  const customer = customerId === null ? null : loadTriageSubject(db, customerId)
  const plan = planRelay({
    answer,
    customer,
    language:
      (customerId !== null ? decidedLanguage(db, customerId) : null) ??
      deps.rulebook().settings.default_language,
    now,
    channels: deps.channels,
    tools: deps.tools,
  })
  let queued = 0
  writeTransaction(db, (tx) => {
    recordRelay(
      tx,
      {
        messageId: answer.message.id,
        conversationId: target.conversationId,
        actor,
        outcome: plan.outcome,
        ...(plan.outcome === 'undeliverable' ? { reason: plan.reason } : {}),
      },
      now,
    )
    queued = enqueueEffects(tx, plan.effects, now)
  })
  deps.logger.info(
    {
      messageId: answer.message.id,
      conversationId: target.conversationId,
      outcome: plan.outcome,
      effects: queued,
    },
    'answer relayed',
  )
  return queued
}

/**
 * Triages one stored message (or relays a person's answer) and queues what follows, in one
 * transaction (a savepoint of the worker's slice, which takes the message off the queue).
 * `analysis` is the message's text analysis when the analysis thread worked it out.
 */
export function triageMessage(
  deps: TriageWorkerDeps,
  messageId: number,
  analysis?: TextAnalysis,
): 'done' | 'missing' {
  const { db, clock } = deps
  const started = performance.now()
  const now = clock.now()
  const subject = loadTriageSubject(db, messageId)
  if (!subject || hasDecision(db, messageId)) return 'missing'
  const relayTo = relayTarget(db, subject)
  if (relayTo !== null) {
    if (relayAnswer(deps, subject, relayTo, now) > 0) deps.onEffects?.()
    return 'done'
  }
  // The answer to a satisfaction survey is a score, not a new request. (A message that is not a
  // bare score never is one: the survey is looked up only for those.)
  const score = satisfactionFrom(subject.message.text)
  const surveyed =
    score === null
      ? null
      : pendingSurvey(db, subject.conversation.id, now.getTime() - SURVEY_WINDOW_MS)
  if (surveyed && score !== null && subject.message.direction === 'inbound') {
    writeTransaction(db, (tx) => {
      recordSatisfaction(
        tx,
        surveyed.id,
        score,
        subject.contact.email ?? subject.contact.externalId,
        now.getTime(),
      )
    })
    deps.logger.info({ ticketId: surveyed.id, score }, 'satisfaction recorded')
    return 'done'
  }
  // Only customers' messages are triaged; a person's line that relays nowhere is kept as is.
  if (subject.message.direction !== 'inbound') return 'missing'
  const rulebook = deps.rulebook()
  const settings = rulebook.settings
  const { message, contact, conversation } = subject
  const decided = decide(subject, {
    rulebook,
    classifier: deps.classifier(),
    analysis,
    now,
    recentComplaints: () =>
      countRecentComplaints(db, contact, now.getTime() - settings.repeat_complaints.window),
  })
  let counted: ReplyHistory | undefined
  const history = () => {
    counted ??= replyHistory(deps, subject, rulebook, now)
    return counted
  }
  const planning = {
    subject,
    rulebook,
    channels: deps.channels,
    tools: deps.tools,
    now,
    history,
    nextOpen: decided.nextOpen,
  }
  let decision = decided.decision
  let queued = 0
  writeTransaction(db, (tx) => {
    // The case the conversation had before this message, if any.
    const before = openTicketOfConversation(tx, conversation.id) ?? null
    const settled = settleForPlan(planning, decided.decision, before, () =>
      answeredLately(history(), now, settings.automatic_replies.window),
    )
    decision = settled.decision
    const opened = decision.ticket ? openCase(tx, subject, decision, before, rulebook, now) : null
    // A case that reaches a level (or a higher one than its ticket had) is escalated to it.
    const ticketRow = opened ? (opened.id === before?.id ? before : getTicket(tx, opened.id)) : null
    const escalation =
      ticketRow && decision.level && !(ticketRow.level && ticketRow.level >= decision.level)
        ? escalateTicket(
            tx,
            {
              ticket: ticketRow,
              channel: message.channel,
              level: decision.level,
              reason: levelReason(decision),
              by: 'centralita (reglas)',
              summary: message.text,
              initial: ticketRow.level === null,
            },
            rulebook,
            deps.channels,
            now.getTime(),
          )
        : null
    // A message in a case that was open before is handed on as part of it, as it stands now.
    const current = before && escalation ? (getTicket(tx, before.id) ?? null) : before
    const routed = routeWithinCase(
      decision,
      current
        ? {
            number: current.number,
            queue: current.queue,
            priority:
              moreUrgentSince(
                tx,
                conversation.id,
                current.createdAt,
                current.priority as Priority,
              ) ?? current.priority,
            level: current.level,
          }
        : null,
    )
    const planned = planEffects(
      { ...planning, decision: routed.decision, ticket: opened },
      settled.notes,
    )
    if (settled.outcome.branch === 'answer' && planned.replySent === null) {
      throw new Error('the automatic answer checked when settling could not be planned')
    }
    const recorded: Decision = {
      ...decision,
      reply: planned.replySent,
      explanation: {
        ...decision.explanation,
        outcome: settled.outcome,
        reasons: [
          ...decision.explanation.reasons,
          ...(escalation?.notes ?? []),
          ...(routed.note ? [routed.note] : []),
          ...planned.notes,
        ],
      },
    }
    insertDecision(
      tx,
      { messageId: message.id, conversationId: conversation.id },
      recorded,
      rulebook.version,
      now,
    )
    queued = enqueueEffects(tx, [...planned.effects, ...(escalation?.effects ?? [])], now)
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
  deps.onTriaged?.({
    intent: decision.intent,
    seconds: (performance.now() - started) / 1000,
    analysedAhead: analysis !== undefined,
  })
  return 'done'
}

/** Messages read from the queue at a time within a slice. */
const READ_AHEAD = 8

/** Triages one message; a failure rolls back that message alone and schedules another try. */
function triageOne(
  deps: TriageWorkerDeps,
  queue: TriageQueueSlice,
  item: QueuedMessage,
  now: Date,
  analysis: TextAnalysis | undefined,
): void {
  try {
    triageMessage(deps, item.messageId, analysis)
    queue.done(item)
  } catch (err) {
    const attempt = (item.retry?.attempts ?? 0) + 1
    deps.logger.error({ err, messageId: item.messageId, attempt }, 'triage failed')
    queue.failed(
      item,
      err instanceof Error ? err.message : String(err),
      attempt < MAX_ATTEMPTS
        ? new Date(now.getTime() + backoffDelay(attempt, { baseMs: 1000, maxMs: 60_000 }))
        : null,
    )
  }
}

/** Drains triage jobs: woken on every stored message, polling only as a safety net. */
export function createTriageWorker(deps: TriageWorkerDeps): Loop {
  const batchSize = deps.batchSize ?? 256
  const sliceMs = deps.sliceMs ?? 2
  const yieldMs = deps.yieldMs ?? 10
  let lastSlice = 0
  return startLoop({
    name: 'triage',
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1000,
    runOnce: () => {
      const started = performance.now()
      // A slice and the webhooks' group commit are both immediates, run in the order queued:
      // this slice (queued as the last one ended) before the commit of the deliveries read
      // since, whose senders would wait a whole slice for their answer. The commit goes first,
      // unless triage has waited `yieldMs` already (under a steady flood it keeps its share).
      if (deps.acknowledgementsWaiting?.() && started - lastSlice < yieldMs) return 'more'
      const now = deps.clock.now()
      const rulebook = deps.rulebook()
      const classifier = deps.classifier()
      deps.analyses?.prefetch(deps.db, readCursor(deps.db), rulebook)
      let more = false
      // One commit for a whole slice: each message's transaction is a savepoint inside it, so a
      // message that fails rolls back alone. A slice ends after `sliceMs` (or `batchSize`
      // messages), so webhooks waiting on the event loop are answered between slices.
      writeTransaction(deps.db, () => {
        // A slice triages a handful of messages: read the queue a few at a time.
        const queue = triageQueueSlice(deps.db, now)
        let done = 0
        read: while (done < batchSize) {
          const due = queue.next(Math.min(READ_AHEAD, batchSize - done))
          if (due.length === 0) break
          for (const item of due) {
            if (performance.now() - started >= sliceMs) {
              more = true
              break read
            }
            // The analysis thread's answer for a new message; while it works on it, the slice
            // ends here and the answer wakes the worker.
            const ahead =
              item.retry === null
                ? deps.analyses?.take(item.messageId, rulebook, classifier)
                : undefined
            if (ahead === 'waiting') break read
            triageOne(deps, queue, item, now, ahead)
            done++
          }
        }
        if (done >= batchSize) more = true
        queue.close()
      })
      lastSlice = performance.now()
      return more ? 'more' : 'idle'
    },
  })
}
