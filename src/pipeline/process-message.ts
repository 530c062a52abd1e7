import { planEffects } from '../actions/plan.js'
import { satisfactionFrom } from '../actions/survey.js'
import type { ChannelEntry, ReplyTools } from '../contracts/channel.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { enqueueEffects } from '../store/outbox-store.js'
import { relayTarget } from '../store/relay-store.js'
import type { Sql } from '../store/sql.js'
import { pendingSurvey, recordSatisfaction } from '../store/ticket-store.js'
import { loadUndecided, type UndecidedMessage } from '../store/triage-reads.js'
import {
  countRecentComplaints,
  type DecisionLog,
  decisionsAtOnce,
  type TriageSubject,
} from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import {
  analyzeText,
  type Decision,
  type IntentClassifier,
  type TextAnalysis,
} from '../triage/triage.js'
import { openOrContinueCase } from './case-step.js'
import { decide } from './decide.js'
import { relayAnswer } from './relay-step.js'
import { answeredLately, replyHistory } from './reply-history.js'
import { settleForPlan } from './settle.js'

export type PipelineDeps = {
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
}

/** What a triage slice knows of a message before its turn, and where it records decisions. */
export type SliceContext = {
  /** The message's text analysis, when the analysis thread worked it out. */
  analysis?: TextAnalysis
  /** Step 1, when the queue's read did it (null: decided already). */
  found?: UndecidedMessage | null
  /** Where the decision goes (at once, unless the slice holds them: `heldDecisions`). */
  decisions?: DecisionLog
}

/** How long after a ticket's survey a bare 1–5 from the customer counts as its answer. */
const SURVEY_WINDOW_MS = 7 * 86_400_000

/**
 * What happens to one stored message, in the transaction `tx` (a savepoint of the worker's
 * slice, which takes the message off the queue). The steps, each returning what the next
 * reads:
 *
 * 1. load the message with its conversation, its contact and its open case;
 * 2. a person's answer to relay, or a survey score, ends there;
 * 3. decide (`decide.ts`: the triage in the message's context);
 * 4. settle: the decision as it will be carried out, ending in an answer or a person;
 * 5. open or continue the case, escalating it when the message reaches a level;
 * 6. plan the effects, and record the decision and queue them.
 */
export async function processMessage(
  deps: PipelineDeps,
  tx: Sql,
  messageId: number,
  slice: SliceContext = {},
): Promise<'done' | 'relayed' | 'missing'> {
  const started = performance.now()
  const now = deps.clock.now()
  const { analysis, found } = slice
  const decisions = slice.decisions ?? decisionsAtOnce
  const loaded = found === undefined ? await loadUndecided(tx, messageId) : found
  if (!loaded) return 'missing'
  const { subject, openCase } = loaded
  const relayTo = await relayTarget(tx, subject)
  if (relayTo !== null) {
    // The relay reads the customer's decided language, and writes to the customer's
    // conversation (another one): 'relayed' tells the slice so.
    await decisions.flush(tx)
    if ((await relayAnswer(deps, tx, subject, relayTo, now)) > 0) deps.onEffects?.()
    return 'relayed'
  }
  if (await surveyScore(deps, tx, subject, now)) return 'done'
  // Only customers' messages are triaged; a person's line that relays nowhere is kept as is.
  if (subject.message.direction !== 'inbound') return 'missing'

  const rulebook = deps.rulebook()
  const decided = await decideInContext(deps, tx, subject, rulebook, now, analysis, decisions)
  const history = await replyHistory(tx, subject, decided.decision, rulebook, now, loaded.replies)
  const planning = {
    subject,
    rulebook,
    channels: deps.channels,
    tools: deps.tools,
    now,
    ...(history ? { history: () => history } : {}),
    nextOpen: decided.nextOpen,
  }
  const settled = settleForPlan(planning, decided.decision, openCase?.ticket ?? null, () =>
    answeredLately(history, now, rulebook.settings.automatic_replies.window),
  )
  const inCase = await openOrContinueCase(
    deps,
    tx,
    subject,
    settled.decision,
    openCase,
    rulebook,
    now,
  )
  const planned = planEffects(
    { ...planning, decision: inCase.routed, ticket: inCase.ticket },
    settled.notes,
  )
  if (settled.outcome.branch === 'answer' && planned.replySent === null)
    throw new Error('the automatic answer checked when settling could not be planned')
  const recorded: Decision = {
    ...settled.decision,
    reply: planned.replySent,
    explanation: {
      ...settled.decision.explanation,
      outcome: settled.outcome,
      reasons: [...settled.decision.explanation.reasons, ...inCase.notes, ...planned.notes],
    },
  }
  const { message, conversation } = subject
  await decisions.record(tx, {
    messageId: message.id,
    conversationId: conversation.id,
    decision: recorded,
    rulebookVersion: rulebook.version,
    now,
  })
  const queued = await enqueueEffects(
    tx,
    [...planned.effects, ...(inCase.escalation?.effects ?? [])],
    now,
  )
  deps.logger.info(
    {
      messageId: message.id,
      intent: recorded.intent,
      priority: recorded.priority,
      level: recorded.level,
      effects: queued,
    },
    'message triaged',
  )
  if (queued > 0) deps.onEffects?.()
  deps.onTriaged?.({
    intent: recorded.intent,
    seconds: (performance.now() - started) / 1000,
    analysedAhead: analysis !== undefined,
  })
  return 'done'
}

/**
 * The answer to a satisfaction survey is a score, not a new request. (A message that is not a
 * bare score never is one: the survey is looked up only for those.) True when it was one.
 */
async function surveyScore(
  deps: PipelineDeps,
  tx: Sql,
  subject: TriageSubject,
  now: Date,
): Promise<boolean> {
  const score = satisfactionFrom(subject.message.text)
  if (score === null || subject.message.direction !== 'inbound') return false
  const surveyed = await pendingSurvey(
    tx,
    subject.conversation.id,
    now.getTime() - SURVEY_WINDOW_MS,
  )
  if (!surveyed) return false
  await recordSatisfaction(
    tx,
    surveyed.id,
    score,
    subject.contact.email ?? subject.contact.externalId,
    now.getTime(),
  )
  deps.logger.info({ ticketId: surveyed.id, score }, 'satisfaction recorded')
  return true
}

/**
 * The triage of a stored message in its context. Whether the customer is a repeat complainer
 * matters only for a complaint: their recent complaints are counted, and the message decided
 * again with the count, only when it is one (the text is analysed once).
 */
async function decideInContext(
  deps: PipelineDeps,
  tx: Sql,
  subject: TriageSubject,
  rulebook: Rulebook,
  now: Date,
  ahead: TextAnalysis | undefined,
  decisions: DecisionLog,
) {
  const classifier = deps.classifier()
  const analysis =
    ahead ??
    analyzeText(
      {
        text: subject.message.text,
        subject: subject.message.subject,
        language: (subject.message.language as 'es' | 'en' | null) ?? null,
      },
      rulebook,
      classifier,
    )
  const options = { rulebook, classifier, analysis, now }
  const first = decide(subject, { ...options, recentComplaints: 0 })
  if (first.decision.intent !== 'complaint') return first
  const window = rulebook.settings.repeat_complaints.window
  // The person's complaints may be on another contact's decisions still held by the slice.
  await decisions.flush(tx)
  const recent = await countRecentComplaints(tx, subject.contact, now.getTime() - window)
  return recent === 0 ? first : decide(subject, { ...options, recentComplaints: recent })
}
