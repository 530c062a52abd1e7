import { z } from 'zod'
import {
  defineAdapter,
  type ParseResult,
  type RequestHead,
  type Source,
  type VerifyResult,
} from '../../src/contracts/channel.js'
import type { EffectExecutor } from '../../src/contracts/effect.js'
import { sha256Hex } from '../../src/contracts/message.js'
import { ByteSize } from '../../src/kit/byte-size.js'
import { safeEqual } from '../shared/hmac.js'
import { type Authentication, authenticated } from './authentication.js'
import { CHANNEL, type MailOutcome, normalizeMail } from './normalize.js'
import type { ParsedMail } from './parse-mime.js'
import type { MimeParser } from './parse-pool.js'
import { EMAIL_SEND, type EmailSender, emailEffect, replySubject } from './reply-effect.js'

// The email stack (smtp-server, imapflow, nodemailer, postal-mime, html-to-text) is imported
// when the channel first uses it, so a hub without email does not carry it (a large share of
// an idle hub's memory).

/** A source whose module is imported when it starts. */
function lazySource(name: string, load: () => Promise<Source>): Source {
  let source: Source | null = null
  return {
    name,
    async start() {
      source ??= await load()
      await source.start()
    },
    async stop() {
      await source?.stop()
    },
    health: () => source?.health() ?? 'not started',
  }
}

export type EmailConfig = {
  /** The hub's own address (EMAIL_FROM): replies come from it, mail from it is never answered. */
  sender: EmailSender | null
  smtpUrl: string | null
  listen: { port: number; host: string } | null
  imap: { url: string; pollMs: number; backfillMs: number } | null
  /** Shared secret of POST /webhooks/email. */
  webhookSecret: string | null
  maxBytes: number
  /** SMTP clients connected at once. */
  smtpMaxClients: number
}

/** "Centralita <soporte@x.cl>" or "soporte@x.cl". */
export const EmailAddress = z.string().transform((value, ctx): EmailSender => {
  const match = /^\s*(?:"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+))\s*$/.exec(value)
  if (!match) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an address like "Soporte <soporte@empresa.cl>"',
    })
    return z.NEVER
  }
  return { name: (match[1] ?? '').trim(), address: (match[2] ?? match[3]!).toLowerCase() }
})

/** The process's MIME thread, started with the first mail (`parse-pool.ts`). */
let parser: Promise<MimeParser> | null = null

/**
 * Mail is parsed and normalized the same way from the webhook, SMTP and IMAP. Parsing runs on
 * the MIME thread, bounded in time; what it had to leave out is noted with the message.
 */
export async function readMail(
  raw: Buffer,
  rawHash: string,
  now: Date,
  ownAddresses: readonly string[],
  note?: string,
): Promise<MailOutcome | { kind: 'invalid'; reason: string }> {
  parser ??= import('./parse-pool.js').then((m) => m.mimeParser())
  let mail: ParsedMail
  try {
    mail = await (await parser).parse(raw)
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message.slice(0, 200) }
  }
  if (note) mail = { ...mail, notes: [note, ...mail.notes] }
  return normalizeMail(mail, { rawHash, now, ownAddresses })
}

/** POST /webhooks/email is guarded by a shared secret: a bearer token, a header or `?token=`. */
function verifyEmailWebhook(req: RequestHead, config: EmailConfig): VerifyResult {
  if (!config.webhookSecret) return { ok: false, reason: 'no EMAIL_WEBHOOK_SECRET' }
  const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, '')
  const given = bearer ?? req.headers['x-centralita-token'] ?? req.query.token
  if (!given) return { ok: false, reason: 'missing token' }
  return safeEqual(given, config.webhookSecret) ? { ok: true } : { ok: false, reason: 'bad token' }
}

export const email = defineAdapter({
  id: CHANNEL,
  env: {
    EMAIL_FROM: EmailAddress.optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    SMTP_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    SMTP_LISTEN_HOST: z.string().default('0.0.0.0'),
    IMAP_URL: z.url({ protocol: /^imaps?$/ }).optional(),
    IMAP_POLL_SECONDS: z.coerce.number().min(1).default(60),
    IMAP_BACKFILL_HOURS: z.coerce.number().min(0).default(24),
    EMAIL_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    MIME_BODY_LIMIT: ByteSize.default(25 * 1024 * 1024),
    SMTP_MAX_CLIENTS: z.coerce.number().int().min(1).default(32),
  },
  configure(env) {
    const config: EmailConfig = {
      sender: env.EMAIL_FROM ?? null,
      smtpUrl: env.SMTP_URL ?? null,
      listen:
        env.SMTP_LISTEN_PORT !== undefined
          ? { port: env.SMTP_LISTEN_PORT, host: env.SMTP_LISTEN_HOST }
          : null,
      imap: env.IMAP_URL
        ? {
            url: env.IMAP_URL,
            pollMs: env.IMAP_POLL_SECONDS * 1000,
            backfillMs: env.IMAP_BACKFILL_HOURS * 3_600_000,
          }
        : null,
      webhookSecret: env.EMAIL_WEBHOOK_SECRET ?? null,
      maxBytes: env.MIME_BODY_LIMIT,
      smtpMaxClients: env.SMTP_MAX_CLIENTS,
    }
    return config.webhookSecret
      ? { config, inbound: { enabled: true } }
      : {
          config,
          inbound: {
            enabled: false,
            reason: 'set EMAIL_WEBHOOK_SECRET to accept raw MIME on /webhooks/email',
          },
        }
  },
  body: 'mime',
  // The token does not depend on the body: the whole check runs before it is read.
  checkHead: (head, config) => verifyEmailWebhook(head, config),
  verify: (req, config) => verifyEmailWebhook(req, config),
  async parse(req, config, now): Promise<ParseResult> {
    const own = config.sender ? [config.sender.address] : []
    const outcome = await readMail(req.rawBody, req.rawHash, now, own)
    if (outcome.kind === 'invalid') return outcome
    if (outcome.kind === 'ignored') return outcome
    return {
      kind: 'accepted',
      deliveryId: outcome.message.externalId,
      messages: [outcome.message],
      events: [],
    }
  },
  planReply(reply, _config, tools) {
    if (!tools.email) return { unavailable: 'email is not configured (SMTP_URL, EMAIL_FROM)' }
    const meta = reply.message.meta
    // Anyone can write a Reply-To: an automatic answer goes there only when the sender's
    // domain vouched for the mail, so unauthenticated mail cannot aim it at a third party.
    // A person's answer follows Reply-To as any mail client does.
    const replyTo =
      typeof meta.replyTo === 'string' &&
      meta.replyTo &&
      (!reply.automatic || authenticated(meta.authentication as Authentication | undefined))
        ? meta.replyTo
        : null
    const to = replyTo || reply.contact.email
    if (!to) return { unavailable: 'the message has no sender address' }
    const messageId = typeof meta.messageId === 'string' ? meta.messageId : null
    const references = Array.isArray(meta.references) ? (meta.references as string[]) : []
    return tools.email({
      key: reply.key,
      subject: reply.subject,
      conversationId: reply.conversation.id,
      to,
      title: replySubject(reply.message.subject, 'Tu mensaje'),
      text: reply.text,
      automatic: reply.automatic,
      inReplyTo: messageId,
      references: messageId ? [...references, messageId] : references,
    })
  },
  notify(n, config) {
    if (!config.smtpUrl || !config.sender || !n.via.includes('email')) return {}
    return {
      email: n.emails.map((to) =>
        emailEffect({
          key: `${n.key}:email:${to}`,
          subject: n.subject,
          conversationId: n.conversationId ?? 0,
          to,
          title: n.title,
          text: n.text,
          automatic: false,
          kind: 'notification',
        }),
      ),
    }
  },
  executors(config, deps) {
    const { smtpUrl, sender } = config
    if (!smtpUrl || !sender) return new Map()
    let send: Promise<EffectExecutor> | null = null
    return new Map<string, EffectExecutor>([
      [
        EMAIL_SEND,
        async (run) => {
          send ??= import('./send.js').then(
            (m) => m.emailExecutors(smtpUrl, sender, deps).get(EMAIL_SEND)!,
          )
          return (await send)(run)
        },
      ],
    ])
  },
  replyTools: (config) => ({ email: emailTool(config) }),
  mailboxes: (config) => (config.sender ? [config.sender.address] : []),
  sources(config, deps) {
    const receive = async (raw: Buffer, note?: string) => {
      const rawHash = sha256Hex(raw)
      const outcome = await readMail(
        raw,
        rawHash,
        deps.now(),
        config.sender ? [config.sender.address] : [],
        note,
      )
      if (outcome.kind === 'invalid') return { outcome: 'invalid_payload', reason: outcome.reason }
      if (outcome.kind === 'ignored') return { outcome: 'ignored', reason: outcome.reason }
      return deps.accept({ deliveryId: null, rawHash, messages: [outcome.message], events: [] })
    }
    const sources = []
    const { listen, imap } = config
    if (listen)
      sources.push(
        lazySource('smtp', async () =>
          (await import('./smtp-receiver.js')).smtpReceiver({
            ...listen,
            maxBytes: config.maxBytes,
            maxClients: config.smtpMaxClients,
            deps,
            receive,
          }),
        ),
      )
    if (imap)
      sources.push(
        lazySource('imap', async () =>
          (await import('./imap-poller.js')).imapPoller({
            ...imap,
            maxBytes: config.maxBytes,
            deps,
            receive,
          }),
        ),
      )
    return sources
  },
})

/** The email effect for other channels' replies (Tawk.to visitors) and queue mailboxes. */
export function emailTool(config: EmailConfig) {
  if (!config.smtpUrl || !config.sender) return null
  return (request: Parameters<typeof emailEffect>[0]) =>
    // One recipient, always: an address field that holds a list must not mail the list.
    z.email().safeParse(request.to).success
      ? emailEffect(request)
      : { unavailable: 'the recipient is not one valid email address' }
}
