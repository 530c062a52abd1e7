import { z } from 'zod'
import {
  defineAdapter,
  type InboundRequest,
  type RequestHead,
  type VerifyResult,
} from '../../src/contracts/channel.js'
import { pacer } from '../../src/kit/pacer.js'
import { hmac, isFresh, safeEqual } from '../shared/hmac.js'
import { describeZodError as describe, parseJson } from '../shared/parse-json.js'
import { chatwootApi } from './api-client.js'
import { CHATWOOT_EFFECTS, chatwootExecutors } from './effects.js'

import { chatwootInbox, chatwootTarget } from './inbox.js'
import { CHANNEL, normalizeConversationEvent, normalizeMessageEvent } from './normalize.js'
import { ChatwootConversationEvent, ChatwootEnvelope, ChatwootMessageEvent } from './schema.js'

export type ChatwootConfig = {
  /** Signing secret of the Chatwoot webhook (Chatwoot ≥ 4.11.2 signs deliveries). */
  webhookSecret: string | null
  /** For older, unsigned servers: a secret the webhook URL carries as `?token=`. */
  urlToken: string | null
  /** Application API access, when configured: what the hub uses to write into Chatwoot. */
  api: {
    baseUrl: string
    token: string
    accountId: number | null
    /** Calls a minute at most (CHATWOOT_API_RATE_LIMIT). */
    perMinute: number
  } | null
  /** API inbox where conversations from other channels are mirrored for the admins. */
  mirrorInboxId: number | null
}

const Url = z.url({ protocol: /^https?$/ })

/**
 * Chatwoot signs `${X-Chatwoot-Timestamp}.${raw body}` with HMAC-SHA256 and sends
 * `X-Chatwoot-Signature: sha256=<hex>` (lib/webhooks/trigger.rb, Chatwoot ≥ 4.11.2).
 */
export function verifyChatwoot(
  req: InboundRequest,
  config: ChatwootConfig,
  now: Date,
): VerifyResult {
  const signature = req.headers['x-chatwoot-signature']
  if (signature && config.webhookSecret) {
    const timestamp = req.headers['x-chatwoot-timestamp']
    if (!isFresh(timestamp, now)) return { ok: false, reason: 'stale or missing timestamp' }
    const expected = `sha256=${hmac('sha256', config.webhookSecret, Buffer.concat([Buffer.from(`${timestamp}.`), req.rawBody]))}`
    return safeEqual(signature, expected) ? { ok: true } : { ok: false, reason: 'bad signature' }
  }
  if (config.urlToken) {
    const token = req.query.token
    if (token && safeEqual(token, config.urlToken)) return { ok: true }
    return { ok: false, reason: token ? 'bad url token' : 'missing signature and url token' }
  }
  return { ok: false, reason: signature ? 'no webhook secret configured' : 'missing signature' }
}

/** Before the body: a signature with a fresh timestamp, or the right URL token. */
export function checkChatwootHead(
  head: RequestHead,
  config: ChatwootConfig,
  now: Date,
): VerifyResult {
  const signature = head.headers['x-chatwoot-signature']
  if (signature && config.webhookSecret) {
    if (!/^sha256=[0-9a-f]{64}$/i.test(signature)) return { ok: false, reason: 'bad signature' }
    return isFresh(head.headers['x-chatwoot-timestamp'], now)
      ? { ok: true }
      : { ok: false, reason: 'stale or missing timestamp' }
  }
  if (config.urlToken) {
    const token = head.query.token
    if (token && safeEqual(token, config.urlToken)) return { ok: true }
    return { ok: false, reason: token ? 'bad url token' : 'missing signature and url token' }
  }
  return { ok: false, reason: signature ? 'no webhook secret configured' : 'missing signature' }
}

export const chatwoot = defineAdapter({
  id: CHANNEL,
  env: {
    CHATWOOT_BASE_URL: Url.optional(),
    CHATWOOT_API_TOKEN: z.string().min(1).optional(),
    CHATWOOT_ACCOUNT_ID: z.coerce.number().int().positive().optional(),
    CHATWOOT_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
    CHATWOOT_WEBHOOK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    CHATWOOT_MIRROR_INBOX_ID: z.coerce.number().int().positive().optional(),
    /**
     * Calls per minute the hub makes to Chatwoot's API at most: under Chatwoot's throttle
     * (RACK_ATTACK_LIMIT, 3,000 requests a minute per client address by default), with room
     * for the other clients at the hub's address. Raise both together.
     */
    CHATWOOT_API_RATE_LIMIT: z.coerce.number().int().min(1).default(2_700),
  },
  configure(env) {
    const api =
      env.CHATWOOT_BASE_URL && env.CHATWOOT_API_TOKEN
        ? {
            baseUrl: env.CHATWOOT_BASE_URL.replace(/\/+$/, ''),
            token: env.CHATWOOT_API_TOKEN,
            accountId: env.CHATWOOT_ACCOUNT_ID ?? null,
            perMinute: env.CHATWOOT_API_RATE_LIMIT,
          }
        : null
    const config: ChatwootConfig = {
      webhookSecret: env.CHATWOOT_WEBHOOK_SECRET ?? null,
      urlToken: env.CHATWOOT_WEBHOOK_TOKEN ?? null,
      api,
      mirrorInboxId: env.CHATWOOT_MIRROR_INBOX_ID ?? null,
    }
    return config.webhookSecret || config.urlToken
      ? { config, inbound: { enabled: true } }
      : {
          config,
          inbound: {
            enabled: false,
            reason: 'set CHATWOOT_WEBHOOK_SECRET (or CHATWOOT_WEBHOOK_TOKEN for unsigned servers)',
          },
        }
  },
  body: 'json',
  checkHead: checkChatwootHead,
  verify: verifyChatwoot,
  parse(req, _config, now) {
    const json = parseJson(req.rawBody)
    if (!json.ok) return { kind: 'invalid', reason: json.reason }
    const envelope = ChatwootEnvelope.safeParse(json.value)
    if (!envelope.success) return { kind: 'invalid', reason: 'missing event' }
    const rawHash = req.rawHash
    const event = envelope.data.event
    // X-Chatwoot-Delivery is stable across Chatwoot's retries; older servers send none.
    const fallbackId = (data: { id: number; updated_at?: unknown; created_at?: unknown }) =>
      `${event}:${data.id}:${String(data.updated_at ?? data.created_at ?? '')}`
    if (event === 'message_created' || event === 'message_updated') {
      const parsed = ChatwootMessageEvent.safeParse(json.value)
      if (!parsed.success) return { kind: 'invalid', reason: describe(parsed.error) }
      const deliveryId = req.headers['x-chatwoot-delivery'] ?? fallbackId(parsed.data)
      return normalizeMessageEvent(parsed.data, deliveryId, rawHash, now)
    }
    if (
      event === 'conversation_created' ||
      event === 'conversation_status_changed' ||
      event === 'conversation_updated'
    ) {
      const parsed = ChatwootConversationEvent.safeParse(json.value)
      if (!parsed.success) return { kind: 'invalid', reason: describe(parsed.error) }
      const deliveryId = req.headers['x-chatwoot-delivery'] ?? fallbackId(parsed.data)
      return normalizeConversationEvent(parsed.data, deliveryId, rawHash, now)
    }
    return { kind: 'ignored', reason: `event ${event.slice(0, 64)}` }
  },
  planReply(reply, config) {
    if (!config.api)
      return { unavailable: 'Chatwoot API not configured (CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN)' }
    const target = chatwootTarget(reply.message.meta)
    if (!target) return { unavailable: 'message has no Chatwoot conversation' }
    return {
      kind: CHATWOOT_EFFECTS.message,
      key: reply.key,
      subject: reply.subject,
      payload: { ...target, content: reply.text, private: reply.private ?? false },
    }
  },
  inbox: chatwootInbox,
  executors(config, deps) {
    if (!config.api) return new Map()
    const api = chatwootApi({
      ...config.api,
      timeoutMs: deps.timeoutMs,
      pacer: pacer({ perMinute: config.api.perMinute }),
      onThrottled: (waitMs) =>
        deps.logger.warn({ waitMs }, 'chatwoot throttled the hub: calls wait for its window'),
    })
    return chatwootExecutors(api, deps)
  },
  // Chatwoot sends each webhook once and drops it when refused (no retries).
  redelivers: false,
})
