import { createHash } from 'node:crypto'
import type { Effect } from '../../src/store/outbox-store.js'
import type { EmailReplyRequest } from '../types.js'

export const EMAIL_SEND = 'email.send'

export type EmailSender = { address: string; name: string }

/** "Re: Pedido" for a reply; an existing "Re:"/"RE:"/"Fwd:" prefix is not doubled. */
export function replySubject(subject: string | null | undefined, fallback: string): string {
  const base = subject?.trim() || fallback
  return /^(re|aw|sv|rv)\s*:/i.test(base) ? base : `Re: ${base}`
}

/** A Message-ID derived from the effect's idempotency key: a resend is the same message. */
export function messageIdFor(key: string, from: EmailSender): string {
  const domain = from.address.split('@')[1] ?? 'centralita.invalid'
  return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.centralita@${domain}`
}

/** The outbox effect that sends one email (a reply, a notice, a queue notification). */
export function emailEffect(
  sender: EmailSender,
  request: EmailReplyRequest & { replyTo?: string },
): Effect {
  const messageId = messageIdFor(request.key, sender)
  return {
    kind: EMAIL_SEND,
    key: request.key,
    subject: request.subject,
    conversationId: request.conversationId,
    recipient: request.to,
    automatic: request.automatic,
    payload: {
      to: request.to,
      title: request.title,
      text: request.text,
      messageId,
      inReplyTo: request.inReplyTo ?? null,
      references: request.references ?? [],
      automatic: request.automatic,
      conversationId: request.conversationId,
      kind: request.kind ?? 'reply',
      ...(request.replyTo ? { replyTo: request.replyTo } : {}),
    },
  }
}
