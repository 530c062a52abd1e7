import type { NormalizedMessage } from '../../src/contracts/message.js'
import { authenticationFailure, authenticationOf } from './authentication.js'
import { automaticReason } from './auto-mail.js'
import type { ParsedMail } from './parse-mime.js'
import { stripReply } from './strip-reply.js'

export const CHANNEL = 'email'

export type MailOutcome =
  | { kind: 'message'; message: NormalizedMessage }
  | { kind: 'ignored'; reason: string }

/**
 * One email as a normalized message. Threading: the conversation is keyed by the thread's
 * first Message-ID, and `threadRefs` lists the ids it answers (nearest first), so the store
 * files it with an earlier message it knows. Only the new part of a reply is the text.
 */
export function normalizeMail(
  mail: ParsedMail,
  options: { rawHash: string; now: Date; ownAddresses: readonly string[] },
): MailOutcome {
  const own = new Set(options.ownAddresses.map((a) => a.toLowerCase()))
  if (mail.from && own.has(mail.from.address))
    return { kind: 'ignored', reason: 'sent by the hub itself' }
  const messageId = mail.messageId ?? `sha256-${options.rawHash}@centralita`
  const refs = [...new Set([...mail.inReplyTo, ...[...mail.references].reverse()])].filter(
    (id) => id !== messageId,
  )
  const threadRoot = mail.references[0] ?? mail.inReplyTo[0] ?? messageId
  const stripped = stripReply(mail.text)
  const automated = automaticReason(mail)
  const authentication = authenticationOf(mail)
  const authFailure = authenticationFailure(authentication)
  const sender = mail.from?.address ?? `unknown-${options.rawHash.slice(0, 12)}@invalid`
  const sentAt =
    mail.date && !Number.isNaN(Date.parse(mail.date)) ? new Date(mail.date) : options.now
  return {
    kind: 'message',
    message: {
      channel: CHANNEL,
      externalId: messageId,
      conversationExternalId: threadRoot,
      contactExternalId: sender,
      direction: 'inbound',
      authorRole: 'customer',
      text: stripped.reply,
      subject: mail.subject.slice(0, 998) || undefined,
      language: null,
      attachments: mail.attachments.slice(0, 100).map((a) => ({
        ...(a.name ? { name: a.name.slice(0, 512) } : {}),
        ...(a.contentType ? { contentType: a.contentType.slice(0, 255) } : {}),
        size: a.size,
      })),
      sentAt: sentAt.toISOString(),
      receivedAt: options.now.toISOString(),
      rawHash: options.rawHash,
      contact: {
        email: sender,
        ...(mail.from?.name ? { name: mail.from.name.slice(0, 512) } : {}),
      },
      // Machine mail (out-of-office, bounces, lists) is kept in the thread but neither
      // classified nor routed: nobody should get a ticket for an out-of-office answer.
      triage: automated === null,
      automated: automated !== null,
      threadRefs: refs.slice(0, 200),
      meta: {
        messageId,
        inReplyTo: mail.inReplyTo,
        references: mail.references.slice(-50),
        subject: mail.subject,
        replyTo: mail.replyTo?.address ?? null,
        // What the receiving server found of SPF, DKIM and DMARC: an answer relayed to a
        // customer, or an automatic reply to Reply-To, needs mail that did not fail them.
        ...(authentication ? { authentication } : {}),
        ...(authFailure ? { authFailure } : {}),
        // What was cut or left unread to keep reading the mail bounded.
        ...(mail.notes.length > 0 ? { readNotes: mail.notes } : {}),
        to: mail.to.map((a) => a.address),
        ...(automated ? { automatedReason: automated } : {}),
        ...(stripped.quoted ? { quotedChars: stripped.quoted.length } : {}),
        // Kept for relaying a person's answer whole: triage reads the text without it.
        ...(stripped.signOff ? { signOff: stripped.signOff.slice(0, 500) } : {}),
      },
    },
  }
}
