import nodemailer from 'nodemailer'
import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { PermanentError, TransientError } from '../../src/contracts/errors.js'
import { CHANNEL } from './normalize.js'
import { EMAIL_SEND, type EmailSender, messageIdFor } from './reply-effect.js'

const Payload = z.object({
  to: z.email(),
  title: z.string(),
  text: z.string(),
  /** Set by effects queued before Message-IDs were MACs; newer ones get theirs here. */
  messageId: z.string().min(3).optional(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  automatic: z.boolean(),
  conversationId: z.number().int(),
  kind: z.enum(['reply', 'queue_notification', 'notification']),
  about: z.number().int().optional(),
  replyTo: z.string().optional(),
})

/** SMTP replies 4xx are temporary, 5xx permanent; a lost connection is temporary. */
function classify(err: unknown): TransientError | PermanentError {
  const e = err as { responseCode?: number; code?: string; message?: string }
  const message =
    `email: ${e.responseCode ? `SMTP ${e.responseCode}` : (e.code ?? 'error')} ${e.message ?? ''}`.trim()
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return new PermanentError(message, { cause: err })
  return new TransientError(message, undefined, { cause: err })
}

const bracket = (id: string) => `<${id}>`

/**
 * SMTP_URL (smtp://user:pass@host:587, smtps://… for implicit TLS) as nodemailer options, with
 * timeouts well under the outbox lease, so a stuck server never lets a send run twice.
 */
export function smtpTransportOptions(url: string) {
  const parsed = new URL(url)
  const secure = parsed.protocol === 'smtps:'
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    ...(parsed.username
      ? {
          auth: {
            user: decodeURIComponent(parsed.username),
            pass: decodeURIComponent(parsed.password),
          },
        }
      : {}),
    // Loopback and plain-text servers (tests, local relays) need no TLS upgrade.
    ignoreTLS: parsed.searchParams.get('tls') === 'off',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  }
}

/**
 * Sends `email.send` effects through nodemailer. Automatic messages carry
 * `Auto-Submitted: auto-replied` (RFC 3834) so other robots do not answer them; replies carry
 * In-Reply-To and References so mail clients thread them. Every sent message is recorded,
 * so a customer's answer to it lands in the same conversation.
 */
export function emailExecutors(
  smtpUrl: string,
  sender: EmailSender,
  deps: OutboundDeps,
): Map<string, EffectExecutor> {
  const transport = nodemailer.createTransport(smtpTransportOptions(smtpUrl))
  return new Map<string, EffectExecutor>([
    [
      EMAIL_SEND,
      async (run) => {
        const p = parsePayload(Payload, run)
        const messageId =
          p.messageId ?? messageIdFor(run.key, sender, await deps.secret('email.message-ids'))
        // Sent before a crash cut the run short: the record says so; never send twice.
        if (
          (await deps.store.sentWith(CHANNEL, run.key)) ||
          (await deps.store.hasMessage(CHANNEL, messageId))
        )
          return { messageId, found: true }
        try {
          await transport.sendMail({
            from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
            to: p.to,
            subject: p.title,
            text: p.text,
            messageId: bracket(messageId),
            ...(p.inReplyTo ? { inReplyTo: bracket(p.inReplyTo) } : {}),
            ...(p.references.length > 0 ? { references: p.references.map(bracket) } : {}),
            ...(p.replyTo ? { replyTo: p.replyTo } : {}),
            headers: p.automatic
              ? { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' }
              : p.kind === 'notification'
                ? { 'Auto-Submitted': 'auto-generated' }
                : {},
          })
        } catch (err) {
          throw classify(err)
        }
        await deps.store.recordSent(CHANNEL, run.key, messageId)
        // Alerts to staff are not part of the customer's conversation.
        if (p.kind === 'notification') return { messageId }
        await deps.store.recordOutbound({
          channel: CHANNEL,
          externalId: messageId,
          conversationId: p.conversationId,
          authorRole: p.automatic || p.kind !== 'reply' ? 'bot' : 'agent',
          text: p.text,
          subject: p.title,
          meta: {
            messageId,
            to: p.to,
            kind: p.kind,
            references: p.references,
            ...(p.about !== undefined ? { about: p.about } : {}),
          },
          automated: p.automatic,
        })
        return { messageId }
      },
    ],
  ])
}
