import type { StaffInbox } from '../contracts/channel.js'
import type { ChannelEvent } from '../contracts/message.js'
import type { Sql } from '../store/sql.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { INTENTS, LEVELS, SIGNALS } from '../triage/rulebook/ids.js'
import type { IntentId, Level, SignalId } from '../triage/rulebook/schema.js'
import {
  type CorrectionFields,
  currentJudgement,
  latestDecisionOf,
  recordCorrection,
} from './corrections.js'

/** What reading a channel's feedback needs from the rulebook: which queues a team works. */
export type FeedbackContext = {
  queuesOfTeam(channel: string, team: { id: number | null; name: string | null }): string[]
}

/** Without a rulebook at hand (tools, tests): label changes count, team changes do not. */
export const NO_FEEDBACK_CONTEXT: FeedbackContext = { queuesOfTeam: () => [] }

/**
 * The queues whose team in the staff inbox `channel` is `team`, as that inbox reads its queue
 * settings (`inbox.<channel>` of each queue in the rulebook).
 */
export function feedbackContext(
  rulebook: () => Rulebook,
  inboxes: ReadonlyMap<string, Pick<StaffInbox<unknown>, 'queuesOfTeam'>>,
): FeedbackContext {
  return {
    queuesOfTeam(channel, team) {
      const inbox = inboxes.get(channel)
      if (!inbox) return []
      const queues = Object.entries(rulebook().queues).map(([id, q]) => ({
        id,
        name: q.name,
        settings: q.inbox[channel],
      }))
      return inbox.queuesOfTeam(team, queues)
    },
  }
}

type Feedback = Extract<ChannelEvent, { type: 'triage_feedback' }>

/**
 * Reads a person's change of a conversation's labels or team in the channel's inbox as a
 * correction of the hub's latest decision in that conversation.
 *
 * The hub labels the conversations it hands over (intent, priority, level, signals) and gives
 * them to its queue's team, and the channel reports those changes too: a label or team the hub
 * itself gave to any decision of the conversation is not read as a person's word. What a person
 * adds is: a new intent label is the intent, a level label the level, signal labels added or
 * removed the signals, a team the queue it works. Two intent labels added at once say nothing.
 */
export async function recordChannelFeedback(
  db: Sql,
  event: Feedback,
  context: FeedbackContext,
  at: number,
): Promise<void> {
  const conversationId = event.hubConversationId ?? (await conversationOf(db, event))
  if (conversationId === undefined) return
  const latest = await latestDecisionOf(db, conversationId)
  if (!latest) return
  const current = await currentJudgement(db, latest.id)
  if (!current) return
  const hub = await hubMarks(db, conversationId)
  const fields: CorrectionFields = {}
  if (event.labels) {
    const added = event.labels.added.map((l) => l.toLowerCase()).filter((l) => !hub.labels.has(l))
    const removed = new Set(event.labels.removed.map((l) => l.toLowerCase()))
    const intents = added.filter((l): l is IntentId => (INTENTS as readonly string[]).includes(l))
    if (intents.length === 1) fields.intent = intents[0]!
    const levels = added.flatMap((l) => LEVELS.filter((level) => level.toLowerCase() === l))
    if (levels.length === 1) fields.level = levels[0] as Level
    const isSignal = (l: string): l is SignalId => (SIGNALS as readonly string[]).includes(l)
    const newSignals = added.filter(isSignal)
    if (newSignals.length > 0 || current.signals.some((s) => removed.has(s))) {
      fields.signals = [...current.signals.filter((s) => !removed.has(s)), ...newSignals]
    }
  }
  if (event.team) {
    // A team that works several queues does not say which one.
    const queues = context.queuesOfTeam(event.channel, event.team)
    if (queues.length === 1 && !hub.queues.has(queues[0]!)) fields.queue = queues[0]!
  }
  if (Object.keys(fields).length === 0) return
  await recordCorrection(db, {
    decisionId: latest.id,
    source: event.channel,
    actor: event.actor,
    fields,
    at,
  })
}

async function conversationOf(db: Sql, event: Feedback): Promise<number | undefined> {
  const row = await db.get<{ id: number }>(
    'select id from conversations where channel = ? and external_id = ?',
    [event.channel, event.conversationExternalId],
  )
  return row?.id
}

/** The labels and queues the hub gave the conversation: of every decision, and its ticket's. */
async function hubMarks(db: Sql, conversationId: number) {
  const labels = new Set<string>()
  const queues = new Set<string>()
  const decided = await db.all<{
    intent: string
    priority: string
    level: string | null
    signals: string
    queue: string | null
  }>(
    'select intent, priority, level, signals, queue from triage_decisions where conversation_id = ?',
    [conversationId],
  )
  for (const d of decided) {
    for (const label of [d.intent, d.priority, d.level, ...(JSON.parse(d.signals) as string[])])
      if (label) labels.add(label.toLowerCase())
    if (d.queue) queues.add(d.queue)
  }
  const ticketed = await db.all<{ queue: string }>(
    'select queue from tickets where conversation_id = ?',
    [conversationId],
  )
  for (const t of ticketed) queues.add(t.queue)
  return { labels, queues }
}
