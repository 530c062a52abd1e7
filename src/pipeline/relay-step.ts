import { planRelay } from '../actions/relay.js'
import { enqueueEffects } from '../store/outbox-store.js'
import {
  decidedLanguage,
  latestCustomerMessage,
  type RelayTarget,
  recordRelay,
  relayRefusal,
} from '../store/relay-store.js'
import type { Sql } from '../store/sql.js'
import { loadTriageSubject, type TriageSubject } from '../store/triage-store.js'
import type { PipelineDeps } from './process-message.js'

/**
 * A person's answer to a conversation: sent on to the customer, never triaged. An answer to a
 * queue notification from someone who is not the queue's is kept and refused. Returns how
 * many effects it queued.
 */
export async function relayAnswer(
  deps: PipelineDeps,
  tx: Sql,
  answer: TriageSubject,
  target: RelayTarget,
  now: Date,
): Promise<number> {
  const actor = answer.contact.email ?? `${answer.message.channel}:${answer.contact.externalId}`
  const where = { messageId: answer.message.id, conversationId: target.conversationId }
  const refused = target.notification
    ? relayRefusal(answer, target.notification, deps.rulebook().queues)
    : null
  if (refused) {
    await recordRelay(tx, { ...where, actor, outcome: 'refused', reason: refused }, now)
    deps.logger.warn(where, 'answer refused')
    return 0
  }
  // The customer the notification was about; an answer in a mirror answers the latest one.
  const customerId =
    target.notification?.about ??
    (await latestCustomerMessage(tx, target.conversationId, answer.message.id))
  const customer = customerId === null ? null : await loadTriageSubject(tx, customerId)
  const plan = planRelay({
    answer,
    customer,
    language:
      (customerId !== null ? await decidedLanguage(tx, customerId) : null) ??
      deps.rulebook().settings.default_language,
    now,
    channels: deps.channels,
    tools: deps.tools,
  })
  await recordRelay(
    tx,
    {
      ...where,
      actor,
      outcome: plan.outcome,
      ...(plan.outcome === 'undeliverable' ? { reason: plan.reason } : {}),
    },
    now,
  )
  const queued = await enqueueEffects(tx, plan.effects, now)
  deps.logger.info({ ...where, outcome: plan.outcome, effects: queued }, 'answer relayed')
  return queued
}
