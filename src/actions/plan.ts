import type { ChannelEntry, ReplyTools } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'
import { decisionNote, intentLabel } from './decision-note.js'
import { replyEffect } from './plan-reply.js'

/** Recent history the reply caps need, counted by the worker from the store. */
export type ReplyHistory = {
  /** Automatic messages to this conversation within the window. */
  automaticToConversation: number
  /** Automatic messages to this recipient (any conversation) within the window. */
  automaticToRecipient: number
  /**
   * The once-a-day replies (out-of-hours notice, welcome) this conversation got within their
   * period: asked only for a decision whose reply is one of them.
   */
  onceADay: () => ReadonlySet<'out_of_hours' | 'welcome'>
  /** When a person last answered in the conversation (unix ms), if ever. */
  lastAgentReplyAt: number | null
}

export type PlanInput = {
  decision: Decision
  subject: TriageSubject
  ticket: { number: string } | null
  rulebook: Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  tools: ReplyTools
  now: Date
  /**
   * The reply caps' history, read only when the decision has a reply to cap (three counting
   * queries that most messages, with no automatic reply, never need). Memoize it: a plan may
   * be made twice.
   */
  history?: () => ReplyHistory
  /** When the business opens next, in words ("el lunes a las 9:00"), for the out-of-hours notice. */
  nextOpen?: { es: string; en: string } | null
}

/** Outbound effects for a decision, and notes on what could not be done (kept with it). */
export type Plan = {
  effects: Effect[]
  notes: string[]
  replySent: Decision['reply']
}

/**
 * Hands the conversation to the queue's team in each staff inbox the hub is configured with
 * (Chatwoot): in place for the inbox's own conversations, copied in from other channels.
 */
function planInboxes(
  input: PlanInput,
  keyPrefix: string,
  subjectRef: string,
  notes: string[],
): Effect[] {
  const { decision, subject, rulebook, channels } = input
  const { message, conversation, contact } = subject
  const queue = decision.queue ? rulebook.queue(decision.queue) : undefined
  const effects: Effect[] = []
  for (const [id, { adapter, settings }] of channels) {
    if (!adapter.inbox) continue
    const planned = adapter.inbox.planHandoff(
      {
        keyPrefix,
        subject: subjectRef,
        message: {
          id: message.id,
          channel: message.channel,
          externalId: message.externalId,
          meta: message.meta,
          subject: message.subject,
          text: message.text,
        },
        conversation: {
          id: conversation.id,
          externalId: conversation.externalId,
          meta: conversation.meta,
        },
        contact: {
          externalId: contact.externalId,
          name: contact.name,
          email: contact.email,
          phone: contact.phone,
        },
        queue:
          decision.queue && queue
            ? { id: decision.queue, name: queue.name, settings: queue.inbox[id] }
            : null,
        labels: [
          decision.intent,
          decision.priority,
          ...(decision.level ? [decision.level] : []),
          ...decision.signals,
        ],
        priority: {
          id: decision.priority,
          settings: rulebook.priority(decision.priority).inbox[id],
        },
        note: decisionNote(decision, {
          ticket: input.ticket?.number ?? null,
          queueName: queue?.name ?? null,
          notes,
        }),
      },
      settings.config,
    )
    effects.push(...planned.effects)
    notes.push(...planned.notes)
  }
  return effects
}

/** A queue that works from email gets the conversation, classified; its answer is relayed. */
function planQueueEmail(
  input: PlanInput,
  keyPrefix: string,
  subjectRef: string,
  notes: string[],
): Effect | null {
  const { decision, subject, rulebook, tools } = input
  const queue = decision.queue ? rulebook.queue(decision.queue) : undefined
  if (!queue?.email) return null
  if (!tools.email) {
    notes.push(`queue ${decision.queue} works by email, and email is not configured`)
    return null
  }
  const { message, contact, conversation } = subject
  const who = contact.name ?? contact.email ?? contact.phone ?? contact.externalId
  const ticket = input.ticket ? `[${input.ticket.number}] ` : ''
  const text = [
    decisionNote(decision, { ticket: input.ticket?.number ?? null, queueName: queue.name, notes }),
    '',
    `Cliente: ${who} (${message.channel})`,
    message.subject ? `Asunto: ${message.subject}` : null,
    '',
    message.text,
    '',
    '—',
    'Responda a este correo para contestarle al cliente por el mismo canal.',
  ]
    .filter((line) => line !== null)
    .join('\n')
  const planned = tools.email({
    key: `${keyPrefix}:queue:${decision.queue}`,
    subject: subjectRef,
    conversationId: conversation.id,
    to: queue.email,
    title: `${ticket}${intentLabel(decision.intent)} · ${who}`.slice(0, 200),
    text,
    automatic: false,
    kind: 'queue_notification',
    about: message.id,
  })
  if ('unavailable' in planned) {
    notes.push(`queue ${decision.queue} not notified: ${planned.unavailable}`)
    return null
  }
  return { ...planned, automatic: false }
}

/** Hands the conversation over inside its own channel, where the channel has a staff side. */
function planChannelHandoff(
  input: PlanInput,
  keyPrefix: string,
  subjectRef: string,
  notes: string[],
): Effect[] {
  const { decision, subject, rulebook, channels } = input
  if (!decision.queue && !decision.assignedOperator) return []
  const entry = channels.get(subject.message.channel)
  if (!entry?.adapter.planHandoff) return []
  const queue = decision.queue ? rulebook.queue(decision.queue) : undefined
  const ticket = input.ticket?.number ?? null
  return entry.adapter.planHandoff(
    {
      key: `${keyPrefix}:handoff`,
      subject: subjectRef,
      conversation: {
        id: subject.conversation.id,
        externalId: subject.conversation.externalId,
        meta: subject.conversation.meta,
      },
      message: { externalId: subject.message.externalId, meta: subject.message.meta },
      contact: { externalId: subject.contact.externalId },
      queue: decision.queue ? { id: decision.queue, name: queue?.name ?? decision.queue } : null,
      operator: decision.assignedOperator,
      intent: decision.intent,
      priority: decision.priority,
      level: decision.level,
      ticket,
      note: decisionNote(decision, { ticket, queueName: queue?.name ?? null, notes }),
    },
    entry.settings.config,
  )
}

/**
 * The effects that tell people a conversation is theirs: the queue's mailbox, its team in
 * the staff inboxes, the channel's own staff side. Empty when the decision gives it to nobody, or when
 * none of those is set up for the queue.
 */
export function handoffEffects(input: PlanInput, notes: string[]): Effect[] {
  const keyPrefix = `msg:${input.subject.message.id}`
  const subjectRef = `message:${input.subject.message.id}`
  const effects: Effect[] = []
  const queueMail = planQueueEmail(input, keyPrefix, subjectRef, notes)
  if (queueMail) effects.push(queueMail)
  effects.push(...planInboxes(input, keyPrefix, subjectRef, notes))
  effects.push(...planChannelHandoff(input, keyPrefix, subjectRef, notes))
  return effects
}

/**
 * Decides which outbound effects carry out a decision. Pure. `notes` are said with the
 * decision (in the admins' note) before the plan's own.
 */
export function planEffects(input: PlanInput, earlier: readonly string[] = []): Plan {
  const notes = [...earlier]
  const reply = replyEffect(input)
  const effects: Effect[] = []
  if (reply && 'unavailable' in reply) notes.push(`no automatic reply: ${reply.unavailable}`)
  else if (reply) effects.push(reply)
  effects.push(...handoffEffects(input, notes))
  const sent = reply !== null && !('unavailable' in reply)
  return { effects, notes, replySent: sent ? input.decision.reply : null }
}

export { checkReply, recipientOf, replyRequest, replyText } from './plan-reply.js'
