import type { ChannelEntry, ReplyTools } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { TriageSubject } from '../store/triage-store.js'
import { recipientOf, replyRequest } from './plan.js'

export type RelayInput = {
  /** A person's answer (an admin's email to a queue notification, an agent's reply in a mirror). */
  answer: TriageSubject
  /** The customer's latest message in the conversation the answer belongs to. */
  customer: TriageSubject | null
  language: 'es' | 'en'
  now: Date
  channels: ReadonlyMap<string, ChannelEntry>
  tools: ReplyTools
}

export type RelayPlan =
  | { outcome: 'relayed'; effects: Effect[] }
  | { outcome: 'undeliverable'; reason: string; effects: Effect[] }

/**
 * Sends a person's answer to the customer through the channel the customer wrote on, where that
 * channel allows it. When it does not (a Tawk.to visitor who left no email, a closed WhatsApp
 * window), the person is told so where they wrote the answer, as a private note or an email.
 */
export function planRelay(input: RelayInput): RelayPlan {
  const { answer, customer, channels, tools } = input
  const key = `relay:${answer.message.id}`
  const subjectRef = `message:${answer.message.id}`
  // The person's closing ("Saludos,\nAna", meta.signOff) is theirs to send: triage set it
  // aside, the customer gets it. Quotes and signature blocks stay out.
  const signOff = answer.message.meta.signOff
  const body = answer.message.text.trim()
  const text =
    body && typeof signOff === 'string' && signOff.trim() ? `${body}\n\n${signOff.trim()}` : body
  let reason: string
  if (!text) reason = 'the answer is empty'
  else if (!customer) reason = 'the conversation has no customer message to answer'
  else {
    const entry = channels.get(customer.message.channel)
    if (!entry?.adapter.planReply) reason = `${customer.message.channel} cannot send messages`
    else {
      const planned = entry.adapter.planReply(
        replyRequest(customer, {
          key,
          subjectRef,
          text,
          language: input.language,
          automatic: false,
          at: input.now,
        }),
        entry.settings.config,
        tools,
      )
      if (!('unavailable' in planned)) {
        const effect: Effect = {
          ...planned,
          automatic: false,
          conversationId: customer.conversation.id,
          recipient: planned.recipient ?? recipientOf(customer),
        }
        return { outcome: 'relayed', effects: [effect] }
      }
      reason = planned.unavailable
    }
  }
  const notice = noticeToAuthor(input, `${key}:undeliverable`, subjectRef, reason)
  return { outcome: 'undeliverable', reason, effects: notice ? [notice] : [] }
}

/** "Your answer did not reach the customer", back where the person wrote it. */
function noticeToAuthor(
  input: RelayInput,
  key: string,
  subjectRef: string,
  reason: string,
): Effect | null {
  const { answer, channels, tools } = input
  const entry = channels.get(answer.message.channel)
  if (!entry?.adapter.planReply) return null
  const text = [
    'centralita no pudo entregar esta respuesta al cliente.',
    `Motivo: ${reason}.`,
    'Contacte al cliente por otro medio.',
  ].join('\n')
  const planned = entry.adapter.planReply(
    {
      ...replyRequest(answer, {
        key,
        subjectRef,
        text,
        language: 'es',
        automatic: true,
        at: input.now,
      }),
      private: true,
    },
    entry.settings.config,
    tools,
  )
  return 'unavailable' in planned ? null : { ...planned, automatic: false }
}
