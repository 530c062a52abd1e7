import type { Attachment, NormalizedMessage } from '../../src/contracts/message.js'
import { CHANNEL } from './normalize-cloud.js'

/** The fields of a whatsapp-web.js `Message` the hub reads (src/structures/Message.js). */
export type WebMessage = {
  id: { _serialized: string; fromMe?: boolean }
  from: string
  to?: string
  author?: string | null
  body?: string | null
  type: string
  timestamp: number
  fromMe?: boolean
  isStatus?: boolean
  hasMedia?: boolean
  broadcast?: boolean
  location?: {
    latitude?: number | string
    longitude?: number | string
    description?: string | null
  } | null
  vCards?: string[] | null
  _data?: {
    notifyName?: string | null
    mimetype?: string | null
    filename?: string | null
    size?: number | null
  }
}

const MEDIA = new Set(['image', 'video', 'audio', 'ptt', 'document', 'sticker'])
const TEXT_LIKE = new Set([
  'chat',
  'list_response',
  'buttons_response',
  'template_button_reply',
  'poll_creation',
])
// Protocol chatter that is not something a person wrote.
const NOISE = new Set([
  'e2e_notification',
  'notification',
  'notification_template',
  'gp2',
  'call_log',
  'protocol',
  'revoked',
  'ciphertext',
  'broadcast_notification',
])

/** Why a session event is not a customer's message, or null. */
export function skipWebMessage(m: WebMessage): string | null {
  if (m.fromMe || m.id.fromMe) return 'own message'
  if (m.isStatus || m.from === 'status@broadcast') return 'status update'
  if (m.broadcast || m.from.endsWith('@broadcast')) return 'broadcast'
  if (m.from.endsWith('@g.us')) return 'group chat'
  if (m.from.endsWith('@newsletter')) return 'channel post'
  if (NOISE.has(m.type)) return `${m.type} event`
  return null
}

/**
 * A whatsapp-web.js message as a normalized message. The sender is a phone number when
 * WhatsApp gives one (`<digits>@c.us`); `@lid` ids are opaque and are never taken for a number.
 */
export function normalizeWeb(m: WebMessage, rawHash: string, now: Date): NormalizedMessage {
  const phone = /^(\d{6,15})@c\.us$/.exec(m.from)?.[1]
  const media = MEDIA.has(m.type)
  const attachments: Attachment[] = media
    ? [
        {
          ...(m._data?.mimetype ? { contentType: m._data.mimetype } : {}),
          ...(m._data?.filename ? { name: m._data.filename } : {}),
          ...(typeof m._data?.size === 'number' ? { size: m._data.size } : {}),
        },
      ]
    : []
  let text = m.body ?? ''
  let triage = true
  const meta: Record<string, unknown> = {
    chatId: m.from,
    messageId: m.id._serialized,
    type: m.type,
  }
  if (m.type === 'location' && m.location) {
    text = [m.location.description, `(${m.location.latitude}, ${m.location.longitude})`]
      .filter(Boolean)
      .join(' ')
  } else if (m.type === 'vcard' || m.type === 'multi_vcard') {
    text = ''
    triage = false
    meta.sharedContacts = m.vCards?.length ?? 1
  } else if (m.type === 'reaction') {
    triage = false
  } else if (!media && !TEXT_LIKE.has(m.type) && m.type !== 'location') {
    triage = false
    meta.unsupported = `type ${m.type.slice(0, 40)}`
  }
  if (media) meta.media = m.type === 'ptt' ? 'audio' : m.type
  if (m.type === 'ptt') meta.voice = true
  const sentAt =
    Number.isFinite(m.timestamp) && m.timestamp > 0 ? new Date(m.timestamp * 1000) : now
  return {
    channel: CHANNEL,
    externalId: m.id._serialized.slice(0, 998),
    conversationExternalId: `web:${m.from}`.slice(0, 998),
    contactExternalId: m.from.slice(0, 512),
    direction: 'inbound',
    authorRole: 'customer',
    text: text.slice(0, 200_000),
    language: null,
    attachments,
    sentAt: sentAt.toISOString(),
    receivedAt: now.toISOString(),
    rawHash,
    contact: {
      ...(m._data?.notifyName ? { name: m._data.notifyName.slice(0, 512) } : {}),
      ...(phone ? { phone: `+${phone}` } : {}),
    },
    triage,
    automated: false,
    meta,
  }
}
