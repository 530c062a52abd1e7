import type { ChannelEntry, ReplyTools } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { recipientOf, replyRequest } from './plan.js'
import { firstName, renderTemplate } from './render-template.js'

/**
 * The satisfaction survey for a resolved ticket, sent in reply to the customer's latest message
 * through their channel — or why it cannot be sent (no template, no way to reach them).
 */
export function planSurvey(input: {
  customer: TriageSubject
  ticket: { id: number; number: string }
  language: 'es' | 'en'
  rulebook: Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  tools: ReplyTools
  now: Date
}): Effect | { unavailable: string } {
  const { customer, ticket, rulebook } = input
  const template = rulebook.templates.survey
  if (!template) return { unavailable: 'no "survey" template in templates.yaml' }
  const entry = input.channels.get(customer.message.channel)
  if (!entry?.adapter.planReply)
    return { unavailable: `${customer.message.channel} cannot send messages` }
  const text = renderTemplate(template[input.language], {
    name: firstName(customer.contact.name),
    ticket: ticket.number,
  })
  const planned = entry.adapter.planReply(
    replyRequest(customer, {
      key: `ticket:${ticket.id}:survey`,
      subjectRef: `ticket:${ticket.id}`,
      text,
      language: input.language,
      automatic: true,
      at: input.now,
    }),
    entry.settings.config,
    input.tools,
  )
  if ('unavailable' in planned) return planned
  return {
    ...planned,
    automatic: true,
    conversationId: customer.conversation.id,
    recipient: planned.recipient ?? recipientOf(customer),
  }
}

/** A survey answer: "5", "4/5", "3 estrellas", "5!" → the score; anything else → null. */
export function satisfactionFrom(text: string): number | null {
  const match = /^\s*([1-5])\s*(?:\/\s*5)?\s*(?:estrellas?|stars?|puntos?)?\s*[.!]*\s*$/i.exec(text)
  return match ? Number(match[1]) : null
}
