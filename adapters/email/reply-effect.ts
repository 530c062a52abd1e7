import { createHmac } from 'node:crypto'
import type { EmailReplyRequest } from '../../src/contracts/channel.js'
import type { Effect } from '../../src/contracts/effect.js'

export const EMAIL_SEND = 'email.send'

export type EmailSender = { address: string; name: string }

/** "Re: Pedido" for a reply; an existing "Re:"/"RE:"/"Fwd:" prefix is not doubled. */
export function replySubject(subject: string | null | undefined, fallback: string): string {
  const base = subject?.trim() || fallback
  return /^(re|aw|sv|rv)\s*:/i.test(base) ? base : `Re: ${base}`
}

/**
 * The Message-ID of the email an effect sends: a MAC of its idempotency key under the hub's
 * own secret, so a resend is the same message, and nobody who knows how keys are made (they
 * name message ids, which only grow) can compute the id of a queue notification and answer it
 * as staff.
 */
export function messageIdFor(key: string, from: EmailSender, secret: Buffer): string {
  const domain = from.address.split('@')[1] ?? 'centralita.invalid'
  return `${createHmac('sha256', secret).update(key).digest('hex').slice(0, 32)}.centralita@${domain}`
}

/** The outbox effect that sends one email (a reply, a notice, a queue notification). */
export function emailEffect(request: EmailReplyRequest & { replyTo?: string }): Effect {
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
      inReplyTo: request.inReplyTo ?? null,
      references: request.references ?? [],
      automatic: request.automatic,
      conversationId: request.conversationId,
      kind: request.kind ?? 'reply',
      ...(request.about !== undefined ? { about: request.about } : {}),
      ...(request.replyTo ? { replyTo: request.replyTo } : {}),
    },
  }
}
