import { z } from 'zod'
import {
  defineAdapter,
  type InboundRequest,
  type VerifyResult,
} from '../../src/contracts/channel.js'
import { hmac, safeEqual } from '../shared/hmac.js'
import { describeZodError, parseJson } from '../shared/parse-json.js'
import { CHANNEL, normalizeTawk } from './normalize.js'
import { TawkEnvelope, TawkEvent } from './schema.js'

export type TawkConfig = { secret: string | null }

/** `X-Tawk-Signature` is the lower-case hex HMAC-SHA1 of the raw body (developer.tawk.to/webhooks). */
export function verifyTawk(req: InboundRequest, config: TawkConfig): VerifyResult {
  if (!config.secret) return { ok: false, reason: 'no TAWK_WEBHOOK_SECRET' }
  const signature = req.headers['x-tawk-signature']
  if (!signature) return { ok: false, reason: 'missing signature' }
  return safeEqual(signature.toLowerCase(), hmac('sha1', config.secret, req.rawBody))
    ? { ok: true }
    : { ok: false, reason: 'bad signature' }
}

export const tawkto = defineAdapter({
  id: CHANNEL,
  env: { TAWK_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional() },
  configure(env) {
    const config: TawkConfig = { secret: env.TAWK_WEBHOOK_SECRET ?? null }
    return config.secret
      ? { config, inbound: { enabled: true } }
      : { config, inbound: { enabled: false, reason: 'set TAWK_WEBHOOK_SECRET' } }
  },
  body: 'json',
  checkHead(head, config) {
    if (!config.secret) return { ok: false, reason: 'no TAWK_WEBHOOK_SECRET' }
    const signature = head.headers['x-tawk-signature']
    if (!signature) return { ok: false, reason: 'missing signature' }
    return /^[0-9a-f]{40}$/i.test(signature) ? { ok: true } : { ok: false, reason: 'bad signature' }
  },
  verify: (req, config) => verifyTawk(req, config),
  parse(req, _config, now) {
    const json = parseJson(req.rawBody)
    if (!json.ok) return { kind: 'invalid', reason: json.reason }
    const envelope = TawkEnvelope.safeParse(json.value)
    if (!envelope.success) return { kind: 'invalid', reason: 'missing event' }
    if (
      !['chat:start', 'chat:end', 'chat:transcript_created', 'ticket:create'].includes(
        envelope.data.event,
      )
    ) {
      return { kind: 'ignored', reason: `event ${envelope.data.event.slice(0, 64)}` }
    }
    const parsed = TawkEvent.safeParse(json.value)
    if (!parsed.success) return { kind: 'invalid', reason: describeZodError(parsed.error) }
    const event = parsed.data
    // X-Hook-Event-Id stays the same across Tawk.to's retries (up to 12 hours).
    const subjectId =
      event.event === 'chat:transcript_created'
        ? event.chat.id
        : event.event === 'ticket:create'
          ? event.ticket.id
          : event.chatId
    const deliveryId = req.headers['x-hook-event-id'] ?? `${event.event}:${subjectId}:${event.time}`
    return normalizeTawk(event, deliveryId, req.rawHash, now)
  },
  planReply(reply, _config, tools) {
    // Tawk.to has no API to write into a live chat: the visitor is answered by email.
    const email = reply.contact.email
    if (!email)
      return { unavailable: 'Tawk.to cannot be answered in the chat and the visitor left no email' }
    if (!tools.email)
      return {
        unavailable:
          'Tawk.to is answered by email, and email is not configured (SMTP_URL, EMAIL_FROM)',
      }
    const property =
      typeof reply.message.meta.propertyName === 'string' ? reply.message.meta.propertyName : null
    const title = reply.message.subject
      ? `Re: ${reply.message.subject}`
      : reply.language === 'en'
        ? `Your message${property ? ` to ${property}` : ''}`
        : `Tu consulta${property ? ` en ${property}` : ''}`
    return tools.email({
      key: reply.key,
      subject: reply.subject,
      conversationId: reply.conversation.id,
      to: email,
      title,
      text: reply.text,
      automatic: reply.automatic,
    })
  },
})
