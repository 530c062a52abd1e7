import type { ChatwootConfig } from '../../adapters/chatwoot/index.js'
import { chatwootHandoff, chatwootTarget } from '../../adapters/chatwoot/index.js'
import type { ChannelEntry } from '../ingest/ingest.js'
import type { Effect } from '../store/outbox-store.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'
import { decisionNote } from './decision-note.js'
import { firstName, humanDuration, renderTemplate } from './render-template.js'

export type PlanInput = {
  decision: Decision
  subject: TriageSubject
  ticket: { number: string } | null
  rulebook: Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  /** When the business opens next, in words ("el lunes a las 9:00"), for the out-of-hours notice. */
  nextOpen?: { es: string; en: string } | null
}

/** Outbound effects for a decision, and notes on what could not be done (kept with it). */
export type Plan = { effects: Effect[]; notes: string[] }

/** The text of an automatic reply, in the message's language. */
export function replyText(input: PlanInput): string | null {
  const { decision, rulebook, subject, ticket } = input
  const reply = decision.reply
  if (!reply) return null
  const lang = decision.language
  const templates = rulebook.source.templates.templates
  const vars = {
    name: firstName(subject.contact.name),
    ticket: ticket?.number ?? null,
    first_response: humanDuration(
      rulebook.source.priorities.priorities[decision.priority]!.first_response,
      lang,
    ),
    queue: decision.queue
      ? (rulebook.source.queues.queues[decision.queue]?.name ?? decision.queue)
      : null,
    next_open:
      input.nextOpen?.[lang] ?? (lang === 'es' ? 'lo antes posible' : 'as soon as possible'),
  }
  if (reply.kind === 'faq') {
    const answer = rulebook.faq.answers.get(reply.faqId)
    if (!answer) return null
    return renderTemplate(templates.faq_answer?.[lang] ?? '{{answer}}', {
      ...vars,
      answer: answer[lang],
    })
  }
  const template = templates[reply.kind]
  return template ? renderTemplate(template[lang], vars) : null
}

/** Decides which outbound effects carry out a decision. Pure. */
export function planEffects(input: PlanInput): Plan {
  const { decision, subject, rulebook, channels } = input
  const { message, conversation, contact } = subject
  const effects: Effect[] = []
  const notes: string[] = []
  const keyPrefix = `msg:${message.id}`
  const subjectRef = `message:${message.id}`

  if (decision.reply) {
    const text = replyText(input)
    const entry = channels.get(message.channel)
    if (message.automated) {
      notes.push('no automatic reply: the message was sent by a machine')
    } else if (!text) {
      notes.push(`no automatic reply: template for ${decision.reply.kind} missing`)
    } else if (!entry?.adapter.planReply) {
      notes.push(`no automatic reply: ${message.channel} cannot send messages`)
    } else {
      const planned = entry.adapter.planReply(
        {
          key: `${keyPrefix}:reply`,
          subject: subjectRef,
          text,
          automatic: true,
          message: {
            id: message.id,
            externalId: message.externalId,
            meta: message.meta,
            subject: message.subject,
            sentAt: message.sentAt,
          },
          conversation: {
            id: conversation.id,
            externalId: conversation.externalId,
            meta: conversation.meta,
            lastInboundAt: conversation.lastInboundAt,
          },
          contact: {
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
            externalId: contact.externalId,
          },
        },
        entry.settings.config,
      )
      if ('unavailable' in planned) notes.push(`no automatic reply: ${planned.unavailable}`)
      else effects.push(planned)
    }
  }

  if (message.channel === 'chatwoot') {
    const config = channels.get('chatwoot')?.settings.config as ChatwootConfig | undefined
    const target = chatwootTarget(message.meta)
    if (!config?.api) {
      notes.push('Chatwoot API not configured: no note, labels or team assignment')
    } else if (target) {
      const queue = decision.queue ? rulebook.source.queues.queues[decision.queue] : undefined
      effects.push(
        ...chatwootHandoff({
          keyPrefix,
          subject: subjectRef,
          target,
          team: queue
            ? { id: queue.chatwoot_team_id ?? null, name: queue.chatwoot_team ?? null }
            : null,
          labels: [
            decision.intent,
            decision.priority,
            ...(decision.level ? [decision.level] : []),
            ...decision.signals,
          ],
          priority: rulebook.source.priorities.priorities[decision.priority]!.chatwoot,
          note: decisionNote(decision, {
            ticket: input.ticket?.number ?? null,
            queueName: queue?.name ?? null,
            notes,
          }),
        }),
      )
    }
  }
  return { effects, notes }
}
