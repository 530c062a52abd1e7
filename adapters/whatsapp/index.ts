import { resolve } from 'node:path'
import { z } from 'zod'
import {
  type ChannelSettings,
  defineAdapter,
  type InboundRequest,
  type ParseResult,
  type VerifyResult,
} from '../../src/contracts/channel.js'
import { hmac, safeEqual } from '../shared/hmac.js'
import { parseJson } from '../shared/parse-json.js'
import { type CloudApiConfig, cloudExecutors, cloudReply } from './cloud-send.js'
import { CHANNEL, normalizeCloud } from './normalize-cloud.js'
import { CloudEnvelope, CloudValue } from './schema.js'
import {
  printQr,
  WHATSAPP_WEB_SEND,
  type WhatsAppWebConfig,
  webExecutors,
  webSource,
  whatsappWebJs,
} from './web-session.js'

export type WhatsAppConfig =
  | {
      mode: 'cloud'
      appSecret: string | null
      verifyToken: string | null
      /** Graph API access for replies; null when not configured. */
      api: CloudApiConfig | null
    }
  | { mode: 'web'; web: WhatsAppWebConfig }

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>`. */
export function verifyWhatsApp(req: InboundRequest, config: WhatsAppConfig): VerifyResult {
  if (config.mode !== 'cloud' || !config.appSecret)
    return { ok: false, reason: 'no WHATSAPP_APP_SECRET' }
  // The subscription handshake is a GET without a body; parse checks its verify token.
  if (req.method === 'GET') return { ok: true }
  const signature = req.headers['x-hub-signature-256']
  if (!signature) return { ok: false, reason: 'missing signature' }
  const expected = `sha256=${hmac('sha256', config.appSecret, req.rawBody)}`
  return safeEqual(signature.toLowerCase(), expected)
    ? { ok: true }
    : { ok: false, reason: 'bad signature' }
}

/** GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=… → the challenge, or 403. */
function handshake(req: InboundRequest, verifyToken: string | null): ParseResult {
  const token = req.query['hub.verify_token']
  const challenge = req.query['hub.challenge'] ?? ''
  if (
    req.query['hub.mode'] !== 'subscribe' ||
    !token ||
    !verifyToken ||
    !safeEqual(token, verifyToken)
  ) {
    return { kind: 'handshake', status: 403, body: 'Forbidden' }
  }
  if (!/^[\w.-]{1,256}$/.test(challenge))
    return { kind: 'handshake', status: 400, body: 'bad hub.challenge' }
  return { kind: 'handshake', status: 200, body: challenge }
}

export const whatsapp = defineAdapter({
  id: CHANNEL,
  env: {
    WHATSAPP_MODE: z.enum(['cloud', 'web']).default('cloud'),
    WHATSAPP_APP_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
    WHATSAPP_VERIFY_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
    WHATSAPP_ACCESS_TOKEN: z.string().min(1).optional(),
    WHATSAPP_PHONE_NUMBER_ID: z
      .string()
      .regex(/^\d{1,32}$/, 'expected the numeric phone number id')
      .optional(),
    WHATSAPP_GRAPH_URL: z.url({ protocol: /^https?$/ }).default('https://graph.facebook.com/v25.0'),
    WHATSAPP_SESSION_DIR: z.string().min(1).default('data/whatsapp-session'),
    WHATSAPP_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
    /** Extra Chromium flags, space-separated (e.g. --proxy-server=http://proxy:3128). */
    WHATSAPP_CHROMIUM_ARGS: z.string().default(''),
  },
  configure(env): ChannelSettings<WhatsAppConfig> {
    if (env.WHATSAPP_MODE === 'web') {
      const config: WhatsAppConfig = {
        mode: 'web',
        web: {
          sessionDir: resolve(env.WHATSAPP_SESSION_DIR),
          chromiumPath: env.WHATSAPP_CHROMIUM_PATH,
          chromiumArgs: env.WHATSAPP_CHROMIUM_ARGS.split(/\s+/).filter(Boolean),
          clientId: 'centralita',
          createClient: whatsappWebJs,
          showQr: (qr) => void printQr(qr),
          retry: { baseMs: 5_000, maxMs: 5 * 60_000 },
        },
      }
      return {
        config,
        inbound: {
          enabled: false,
          reason: 'WHATSAPP_MODE=web: messages arrive through the WhatsApp Web session',
        },
      }
    }
    const config: WhatsAppConfig = {
      mode: 'cloud',
      appSecret: env.WHATSAPP_APP_SECRET ?? null,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN ?? null,
      api:
        env.WHATSAPP_ACCESS_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID
          ? {
              graphUrl: env.WHATSAPP_GRAPH_URL.replace(/\/+$/, ''),
              accessToken: env.WHATSAPP_ACCESS_TOKEN,
              phoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID,
            }
          : null,
    }
    return config.appSecret && config.verifyToken
      ? { config, inbound: { enabled: true } }
      : {
          config,
          inbound: { enabled: false, reason: 'set WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN' },
        }
  },
  body: 'json',
  checkHead(head, config) {
    if (config.mode !== 'cloud' || !config.appSecret)
      return { ok: false, reason: 'no WHATSAPP_APP_SECRET' }
    if (head.method === 'GET') return { ok: true }
    const signature = head.headers['x-hub-signature-256']
    if (!signature) return { ok: false, reason: 'missing signature' }
    return /^sha256=[0-9a-f]{64}$/i.test(signature)
      ? { ok: true }
      : { ok: false, reason: 'bad signature' }
  },
  verify: (req, config) => verifyWhatsApp(req, config),
  parse(req, config, now): ParseResult {
    if (req.method === 'GET')
      return handshake(req, config.mode === 'cloud' ? config.verifyToken : null)
    const json = parseJson(req.rawBody)
    if (!json.ok) return { kind: 'invalid', reason: json.reason }
    const envelope = CloudEnvelope.safeParse(json.value)
    if (!envelope.success)
      return { kind: 'invalid', reason: 'not a whatsapp_business_account webhook' }
    const values = envelope.data.entry
      .flatMap((entry) => entry.changes)
      .filter((change) => change.field === 'messages' || change.field === 'smb_message_echoes')
      .map((change) => CloudValue.safeParse(change.value))
      .flatMap((value) => (value.success ? [value.data] : []))
    if (values.length === 0) return { kind: 'ignored', reason: 'no message changes' }
    // Meta repeats a delivery with the same body; messages also dedupe on their wamid.
    return normalizeCloud(values, `sha256:${req.rawHash}`, req.rawHash, now)
  },
  planReply(reply, config) {
    const meta = reply.message.meta
    if (typeof meta.chatId === 'string') {
      if (config.mode !== 'web')
        return { unavailable: 'the WhatsApp Web session is not running (WHATSAPP_MODE=web)' }
      return {
        kind: WHATSAPP_WEB_SEND,
        key: reply.key,
        subject: reply.subject,
        conversationId: reply.conversation.id,
        recipient: reply.contact.phone ?? meta.chatId,
        automatic: reply.automatic,
        payload: {
          chatId: meta.chatId,
          text: reply.text,
          quoted: typeof meta.messageId === 'string' ? meta.messageId : null,
          conversationId: reply.conversation.id,
          automatic: reply.automatic,
        },
      }
    }
    if (config.mode !== 'cloud' || !config.api) {
      return {
        unavailable:
          'the WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID)',
      }
    }
    if (typeof meta.waId !== 'string') return { unavailable: 'the message has no WhatsApp sender' }
    return cloudReply({
      key: reply.key,
      subject: reply.subject,
      phoneNumberId:
        typeof meta.phoneNumberId === 'string' ? meta.phoneNumberId : config.api.phoneNumberId,
      to: meta.waId,
      text: reply.text,
      replyTo: typeof meta.messageId === 'string' ? meta.messageId : null,
      lastInboundAt: reply.conversation.lastInboundAt,
      conversationId: reply.conversation.id,
      automatic: reply.automatic,
      at: reply.at,
    })
  },
  executors(config, deps) {
    if (config.mode === 'web') return webExecutors(config.web, deps)
    return config.api ? cloudExecutors(config.api, deps) : new Map()
  },
  sources(config, deps) {
    return config.mode === 'web' ? [webSource(config.web, deps)] : []
  },
})
