import { readFileSync } from 'node:fs'
import { adapterById } from '../../adapters/registry.js'
import { planEffects } from '../actions/plan.js'
import { replyTools } from '../actions/reply-tools.js'
import type { Config } from '../config.js'
import type { ChannelEntry } from '../contracts/channel.js'
import { ConfigError } from '../contracts/errors.js'
import { type NormalizedMessage, sha256Hex } from '../contracts/message.js'
import { decide } from '../pipeline/decide.js'
import { settleForPlan } from '../pipeline/settle.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { IntentClassifier } from '../triage/triage.js'

/** A stored-looking subject for a message that is never stored (ids are 0). */
export function subjectOf(message: NormalizedMessage): TriageSubject {
  const sentAt = Date.parse(message.sentAt)
  return {
    message: {
      id: 0,
      channel: message.channel,
      externalId: message.externalId,
      conversationId: 0,
      contactId: 0,
      deliveryId: null,
      direction: message.direction,
      authorRole: message.authorRole,
      text: message.text,
      subject: message.subject ?? null,
      language: message.language,
      attachments: JSON.stringify(message.attachments),
      automated: message.automated,
      triage: message.triage,
      meta: message.meta,
      deliveryState: null,
      sentAt,
      receivedAt: Date.parse(message.receivedAt),
      rawHash: message.rawHash,
    },
    conversation: {
      id: 0,
      channel: message.channel,
      externalId: message.conversationExternalId,
      contactId: 0,
      status: 'open',
      language: message.language,
      meta: {},
      lastInboundAt: message.direction === 'inbound' ? sentAt : null,
      lastAgentReplyAt: null,
      createdAt: sentAt,
      updatedAt: sentAt,
    },
    contact: {
      id: 0,
      channel: message.channel,
      externalId: message.contactExternalId,
      name: message.contact.name ?? null,
      email: message.contact.email ?? null,
      phone: message.contact.phone ?? null,
      createdAt: sentAt,
      updatedAt: sentAt,
    },
  }
}

/**
 * `centralita dry-run --channel <id> <file>`: parse (without verifying), normalize, triage and
 * plan a saved payload. Nothing is stored or sent; effects are planned with the current
 * configuration (a channel without API credentials says so in the notes), at the current time
 * (business hours apply), as for a customer with no earlier history.
 */
export async function dryRun(options: {
  channel: string
  file: string
  config: Config
  rulebook: Rulebook
  classifier: IntentClassifier | null
  now?: Date
}) {
  const adapter = adapterById.get(options.channel)
  if (!adapter)
    throw new ConfigError(
      `unknown channel "${options.channel}" (known: ${[...adapterById.keys()].join(', ')})`,
    )
  const settings = options.config.channels.get(adapter.id)!
  const channels = new Map<string, ChannelEntry>()
  for (const [id, s] of options.config.channels) {
    const a = adapterById.get(id)
    if (a) channels.set(id, { adapter: a, settings: s })
  }
  const tools = replyTools(channels)
  const rawBody = readFileSync(options.file)
  const now = options.now ?? new Date()
  const parsed = await adapter.parse(
    { method: 'POST', rawBody, rawHash: sha256Hex(rawBody), headers: {}, query: {} },
    settings.config,
    now,
  )
  if (parsed.kind !== 'accepted') return { channel: adapter.id, result: parsed.kind, ...parsed }
  const decisions = parsed.messages.map((message) => {
    if (!message.triage)
      return {
        message: message.externalId,
        triaged: false,
        reason: `${message.authorRole} message: stored, not triaged`,
      }
    const subject = subjectOf(message)
    const { decision: decided, nextOpen } = decide(subject, {
      rulebook: options.rulebook,
      classifier: options.classifier,
      now,
      recentComplaints: 0,
    })
    const planning = { subject, rulebook: options.rulebook, channels, tools, now, nextOpen }
    // As for a conversation seen for the first time: no open case, nothing answered before.
    const settled = settleForPlan(planning, decided, null, () => false)
    const final = settled.decision
    const ticket = final.ticket ? { number: `TK-${now.getUTCFullYear()}-000000` } : null
    const plan = planEffects({ ...planning, decision: final, ticket }, settled.notes)
    return {
      message: message.externalId,
      triaged: true,
      decision: {
        ...final,
        reply: plan.replySent,
        explanation: { ...final.explanation, outcome: settled.outcome },
      },
      actions: {
        ticket: final.ticket,
        queue: final.queue,
        reply: plan.replySent,
        level: final.level,
        assignedOperator: final.assignedOperator,
      },
      outcome: settled.outcome,
      effects: plan.effects,
      notes: plan.notes,
    }
  })
  return {
    channel: adapter.id,
    result: 'accepted',
    deliveryId: parsed.deliveryId,
    messages: parsed.messages,
    events: parsed.events,
    decisions,
  }
}
