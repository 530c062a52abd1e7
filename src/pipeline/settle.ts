import { checkReply, handoffEffects, type PlanInput } from '../actions/plan.js'
import type { Decision, Outcome } from '../triage/triage.js'

/** What settling a decision needs to know besides the decision itself. */
export type SettleInput = {
  decision: Decision
  /**
   * Whether the decision's automatic reply can really go out on the message's channel now,
   * or why not (`checkReply`); null when the decision has no reply.
   */
  reply: { ok: true } | { ok: false; reason: string } | null
  /** The case (open ticket) the conversation already has. */
  openCase: { number: string; queue: string } | null
  /** Whether the conversation was answered lately (by the hub or a person): read on demand. */
  answeredLately: () => boolean
  /** Where a message goes that nothing else gives to anyone. */
  defaultQueue: string
  /**
   * Whether a decision that gives the conversation to a queue reaches that queue's people
   * outside the hub (its Chatwoot team, its mailbox, the channel's own staff side).
   */
  reachesQueue: (decision: Decision) => boolean
}

/**
 * The decision as it will be carried out, how the message ends (recorded with it, as
 * `explanation.outcome`), and notes for the people who read the decision (why an automatic
 * answer did not go out).
 */
export type Settled = { decision: Decision; outcome: Outcome; notes: string[] }

/**
 * The one place where every triaged customer message is made to end in exactly one of:
 * - `answer`: an automatic answer that can really go out on its channel;
 * - `person`: a queue, a ticket, an assigned operator or the conversation's open case;
 * - `closed`: a thank-you or an "ok" alone in a conversation that was just answered
 *   (stored, nothing to answer).
 * A message that would end in none of them — no rule gave it to anyone, and its answer was
 * set aside by the safety check or cannot be sent — goes to the default queue with a ticket.
 * A queue that hears of nothing outside the hub gets a ticket too, so the conversation is in
 * the console's queues. Pure: the decision is never changed in place.
 */
export function settle(input: SettleInput): Settled {
  const { decision, reply, openCase } = input
  const answers = reply?.ok === true
  const withoutReply = answers ? decision : { ...decision, reply: null }
  const notes = reply && !reply.ok ? [`no automatic reply: ${reply.reason}`] : []
  const kept = (outcome: Outcome): Settled => ({ decision: withoutReply, outcome, notes })
  const unanswered =
    reply && !reply.ok
      ? `the automatic answer cannot go out (${reply.reason})`
      : decision.explanation.replyVeto
        ? `the automatic answer was set aside (${decision.explanation.replyVeto})`
        : null
  const person = personOf(withoutReply, openCase)
  if (person) {
    const reason = unanswered ? `${person.reason}; ${unanswered}` : person.reason
    if (person.ticket || person.operator || person.openCase || input.reachesQueue(withoutReply))
      return kept({ branch: 'person', reason })
    const ticketed = { ...withoutReply, ticket: 'consulta' as const }
    const outcome: Outcome = {
      branch: 'person',
      reason: `${reason}; the queue is told nowhere outside the hub, so a ticket puts the conversation in the console's queue`,
    }
    return { decision: ticketed, outcome, notes }
  }
  if (answers && decision.reply) {
    return kept({ branch: 'answer', reason: `automatic ${decision.reply.kind} answer` })
  }
  if (decision.acts.includes('closing') && !unanswered && input.answeredLately()) {
    return kept({
      branch: 'closed',
      reason: 'thanks or an acknowledgement after an answer: the exchange is closed',
    })
  }
  const queue = decision.queue ?? input.defaultQueue
  const handed: Decision = {
    ...withoutReply,
    needsHuman: true,
    queue,
    ticket: decision.ticket ?? 'consulta',
  }
  const outcome: Outcome = {
    branch: 'person',
    reason: `${unanswered ?? 'nothing answers it and no rule gives it to anyone'}: handed to queue ${queue}`,
  }
  return { decision: handed, outcome, notes }
}

function personOf(
  decision: Decision,
  openCase: SettleInput['openCase'],
): { reason: string; ticket: boolean; operator: boolean; openCase: boolean } | null {
  const found = {
    ticket: decision.ticket !== null,
    operator: decision.assignedOperator !== null,
    openCase: openCase !== null,
  }
  const parts: string[] = []
  if (decision.assignedOperator) parts.push(`operator ${decision.assignedOperator}`)
  if (decision.queue) parts.push(`queue ${decision.queue}`)
  if (decision.ticket) parts.push(`a ticket (${decision.ticket})`)
  if (openCase) parts.push(`open case ${openCase.number} (queue ${openCase.queue})`)
  if (parts.length === 0) return null
  return { reason: `handed to ${parts.join(', ')}`, ...found }
}

/**
 * Settles a decision as it would be planned: its reply checked on the message's channel, its
 * queue's people looked for where the planner would tell them. The triage worker and
 * `centralita dry-run` both settle through this.
 */
export function settleForPlan(
  planning: Omit<PlanInput, 'decision' | 'ticket'>,
  decision: Decision,
  openCase: SettleInput['openCase'],
  answeredLately: () => boolean,
): Settled {
  return settle({
    decision,
    reply: checkReply({ ...planning, decision, ticket: openCase }),
    openCase,
    answeredLately,
    defaultQueue: planning.rulebook.settings.default_queue,
    reachesQueue: (d) => handoffEffects({ ...planning, decision: d, ticket: null }, []).length > 0,
  })
}
