import type { ReplyRequest } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { PlanInput } from './plan.js'
import { firstName, humanDuration, renderTemplate } from './render-template.js'

/** The text of an automatic reply, in the message's language. */
export function replyText(input: PlanInput): string | null {
  const { decision, rulebook, subject, ticket } = input
  const reply = decision.reply
  if (!reply) return null
  const lang = decision.language
  const templates = rulebook.templates
  const vars = {
    name: firstName(subject.contact.name),
    ticket: ticket?.number ?? null,
    first_response: humanDuration(rulebook.priority(decision.priority).first_response, lang),
    queue: decision.queue ? (rulebook.queue(decision.queue)?.name ?? decision.queue) : null,
    next_open:
      input.nextOpen?.[lang] ?? (lang === 'es' ? 'lo antes posible' : 'as soon as possible'),
    // Outside business hours, when the team is back; in them, the first-response time.
    closed: input.nextOpen?.[lang] ?? null,
    when:
      input.nextOpen?.[lang] ??
      `${lang === 'es' ? 'en un plazo de' : 'within'} ${humanDuration(
        rulebook.priority(decision.priority).first_response,
        lang,
      )}`,
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

/** Whether the decision's reply has its words: an FAQ answer, or the reply's template. */
export function hasWords(input: PlanInput): boolean {
  const reply = input.decision.reply
  if (!reply) return false
  if (reply.kind === 'faq') return input.rulebook.faq.answers.has(reply.faqId)
  return input.rulebook.templates[reply.kind] !== undefined
}

/** The address automatic-reply caps count against: who the customer is, across channels. */
export function recipientOf(subject: TriageSubject): string {
  const { contact, message } = subject
  return (
    contact.email ??
    contact.phone ??
    `${message.channel}:${contact.externalId}`
  ).toLowerCase()
}

/** Why an automatic reply must not go out now, or null. */
export function capped(input: PlanInput): string | null {
  const { rulebook, decision, now } = input
  const history = input.history?.()
  if (!history) return null
  const caps = rulebook.settings.automatic_replies
  if (
    history.lastAgentReplyAt !== null &&
    now.getTime() - history.lastAgentReplyAt < caps.agent_quiet
  ) {
    return 'a person answered this conversation moments ago'
  }
  if (decision.reply?.kind === 'out_of_hours' && history.onceADay().has('out_of_hours')) {
    return 'the out-of-hours notice already went to this conversation today'
  }
  if (decision.reply?.kind === 'welcome' && history.onceADay().has('welcome')) {
    return 'the welcome already went to this conversation today'
  }
  if (history.automaticToConversation >= caps.per_conversation) {
    return `${caps.per_conversation} automatic messages already went to this conversation`
  }
  if (history.automaticToRecipient >= caps.per_recipient) {
    return `${caps.per_recipient} automatic messages already went to this recipient`
  }
  return null
}

/** What a channel needs to answer `subject`'s message with `text`. */
export function replyRequest(
  subject: TriageSubject,
  options: {
    key: string
    subjectRef: string
    text: string
    language: 'es' | 'en'
    automatic: boolean
    at: Date
  },
): ReplyRequest {
  const { message, conversation, contact } = subject
  return {
    at: options.at,
    key: options.key,
    subject: options.subjectRef,
    text: options.text,
    language: options.language,
    automatic: options.automatic,
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
  }
}

/** The decision's automatic reply as an effect, or why it cannot go out now. */
export function replyEffect(
  input: PlanInput,
  /** Only whether it can go out: the words are not rendered, only looked for. */
  checkOnly = false,
): Effect | { unavailable: string } | null {
  const { decision, subject, channels, tools } = input
  const { message, conversation } = subject
  if (!decision.reply) return null
  const text = checkOnly ? (hasWords(input) ? '…' : null) : replyText(input)
  const entry = channels.get(message.channel)
  const blocked = message.automated
    ? 'the message was sent by a machine'
    : !text
      ? `template for ${decision.reply.kind} missing`
      : !entry?.adapter.planReply
        ? `${message.channel} cannot send messages`
        : capped(input)
  if (blocked || !text || !entry?.adapter.planReply) return { unavailable: blocked ?? '' }
  const request = replyRequest(subject, {
    key: `msg:${message.id}:reply`,
    subjectRef: `message:${message.id}`,
    text,
    language: decision.language,
    automatic: true,
    at: input.now,
  })
  const planned = entry.adapter.planReply(request, entry.settings.config, tools)
  if ('unavailable' in planned) return planned
  return {
    ...planned,
    automatic: true,
    conversationId: conversation.id,
    recipient: planned.recipient ?? recipientOf(subject),
  }
}

/**
 * Whether the decision's automatic reply can go out on the message's channel now (the
 * channel can send, the caps allow it, a messaging window is open), or why not; null when
 * the decision has no reply. What the reply says plays no part: a ticket number not yet
 * given does not change the answer.
 */
export function checkReply(input: PlanInput): { ok: true } | { ok: false; reason: string } | null {
  const planned = replyEffect(input, true)
  if (planned === null) return null
  return 'unavailable' in planned ? { ok: false, reason: planned.unavailable } : { ok: true }
}
