import type { z } from 'zod'
import type { ParseResult } from '../../src/contracts/channel.js'
import type { Attachment, ChannelEvent, NormalizedMessage } from '../../src/contracts/message.js'
import { CloudEcho, CloudMessage, CloudStatus, type CloudValue } from './schema.js'

export const CHANNEL = 'whatsapp'

type Value = z.infer<typeof CloudValue>

const iso = (seconds: string) => new Date(Number(seconds) * 1000).toISOString()

const MEDIA = ['image', 'video', 'audio', 'document', 'sticker'] as const

/** What a message says, as text to triage and show, and how the hub treats its type. */
function content(m: CloudMessage): {
  text: string
  attachments: Attachment[]
  triage: boolean
  meta: Record<string, unknown>
} {
  const plain = (text: string, meta: Record<string, unknown> = {}) => ({
    text,
    attachments: [],
    triage: true,
    meta,
  })
  const flagged = (reason: string) => ({
    text: '',
    attachments: [],
    triage: false,
    meta: { unsupported: reason },
  })
  switch (m.type) {
    case 'text':
      return m.text ? plain(m.text.body) : flagged('text without body')
    case 'location': {
      const l = m.location
      if (!l) return flagged('location without coordinates')
      const place = [l.name, l.address].filter(Boolean).join(', ')
      return plain(`${place ? `${place} ` : ''}(${l.latitude}, ${l.longitude})`.trim(), {
        location: { latitude: l.latitude, longitude: l.longitude },
      })
    }
    case 'contacts': {
      const shared = (m.contacts ?? []).map((c) =>
        [c.name?.formatted_name, ...(c.phones ?? []).map((p) => p.phone)].filter(Boolean).join(' '),
      )
      return { ...plain(shared.join('; ')), triage: false, meta: { sharedContacts: shared.length } }
    }
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply
      if (!reply) return flagged('interactive message without a reply')
      const description = m.interactive?.list_reply?.description
      return plain([reply.title, description].filter(Boolean).join(' — '), {
        replyId: reply.id ?? null,
      })
    }
    case 'button':
      return m.button
        ? plain(m.button.text ?? '', { replyId: m.button.payload ?? null })
        : flagged('button without text')
    case 'reaction':
      // A reaction to an earlier message: kept, never triaged on its own.
      return {
        text: m.reaction?.emoji ?? '',
        attachments: [],
        triage: false,
        meta: { reactionTo: m.reaction?.message_id ?? null },
      }
    case 'order': {
      const items = (m.order?.product_items ?? []).map(
        (i) =>
          `${i.quantity ?? 1} × ${i.product_retailer_id ?? '?'}${i.item_price !== undefined && i.item_price !== null ? ` (${i.item_price} ${i.currency ?? ''})`.trimEnd() : ''}`,
      )
      return plain(
        [m.order?.text, items.length ? `Pedido: ${items.join(', ')}` : null]
          .filter(Boolean)
          .join('\n'),
        {
          order: true,
        },
      )
    }
    case 'system':
      return {
        text: m.system?.body ?? '',
        attachments: [],
        triage: false,
        meta: { system: m.system?.type ?? null },
      }
    default: {
      const kind = MEDIA.find((k) => k === m.type)
      const media = kind ? m[kind] : null
      if (!kind || !media) return flagged(`type ${m.type.slice(0, 40)}`)
      return {
        text: media.caption ?? '',
        attachments: [
          {
            ...(media.id ? { externalId: media.id } : {}),
            ...(media.mime_type ? { contentType: media.mime_type } : {}),
            ...(media.filename ? { name: media.filename } : {}),
          },
        ],
        triage: true,
        meta: { media: kind, ...(media.voice ? { voice: true } : {}) },
      }
    }
  }
}

function normalizeMessage(
  value: Value,
  m: CloudMessage,
  rawHash: string,
  now: Date,
): NormalizedMessage | null {
  if (m.type === 'revoke') return null // a deletion notice: the earlier message stays as received
  const phoneNumberId = value.metadata.phone_number_id
  const contact = value.contacts?.find((c) => c.wa_id === m.from) ?? value.contacts?.[0]
  const body = m.type === 'edit' ? null : content(m)
  const edited =
    m.type === 'edit' ? (m as { edit?: { original_message_id?: string } }).edit : undefined
  const { text, attachments, triage, meta } = body ?? {
    text: '',
    attachments: [],
    triage: false,
    meta: { editOf: edited?.original_message_id ?? null },
  }
  return {
    channel: CHANNEL,
    externalId: m.id,
    conversationExternalId: `${phoneNumberId}:${m.from}`,
    contactExternalId: m.from,
    direction: 'inbound',
    authorRole: m.type === 'system' ? 'system' : 'customer',
    text: text.slice(0, 200_000),
    language: null,
    attachments,
    sentAt: iso(m.timestamp),
    receivedAt: now.toISOString(),
    rawHash,
    contact: {
      ...(contact?.profile?.name ? { name: contact.profile.name.slice(0, 512) } : {}),
      ...(/^\d{6,15}$/.test(m.from) ? { phone: `+${m.from}` } : {}),
    },
    triage,
    automated: false,
    ...(m.context?.id ? { threadRefs: [m.context.id] } : {}),
    meta: {
      phoneNumberId,
      waId: m.from,
      messageId: m.id,
      type: m.type,
      ...(m.context?.forwarded || m.context?.frequently_forwarded ? { forwarded: true } : {}),
      ...(m.referral ? { referral: m.referral.headline ?? m.referral.source_url ?? true } : {}),
      ...meta,
    },
  }
}

/** A message the business sent from the WhatsApp Business app: an agent's reply, not triaged. */
function normalizeEcho(
  value: Value,
  e: z.infer<typeof CloudEcho>,
  rawHash: string,
  now: Date,
): NormalizedMessage {
  const phoneNumberId = value.metadata.phone_number_id
  return {
    channel: CHANNEL,
    externalId: e.id,
    conversationExternalId: `${phoneNumberId}:${e.to}`,
    contactExternalId: e.to,
    direction: 'outbound',
    authorRole: 'agent',
    text: e.text?.body ?? '',
    language: null,
    attachments: [],
    sentAt: iso(e.timestamp),
    receivedAt: now.toISOString(),
    rawHash,
    contact: /^\d{6,15}$/.test(e.to) ? { phone: `+${e.to}` } : {},
    triage: false,
    automated: false,
    meta: { phoneNumberId, waId: e.to, messageId: e.id, type: e.type, echo: true },
  }
}

const STATUS: Record<string, 'sent' | 'delivered' | 'read' | 'failed'> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'read',
  failed: 'failed',
}

function statusEvent(s: CloudStatus): ChannelEvent | null {
  const status = STATUS[s.status]
  if (!status) return null
  const error = s.errors?.[0]
  return {
    type: 'delivery_status',
    channel: CHANNEL,
    messageExternalId: s.id,
    status,
    at: iso(s.timestamp),
    ...(error
      ? { error: `${error.code ?? ''} ${error.title ?? error.message ?? ''}`.trim().slice(0, 1000) }
      : {}),
    ...(s.biz_opaque_callback_data ? { callbackKey: s.biz_opaque_callback_data } : {}),
  }
}

/**
 * One webhook delivery: every change's messages, echoes and statuses. An item that does not fit
 * its shape (no id, no sender) is skipped, so one odd item never loses the rest; a message of a
 * type the hub does not read is stored, flagged `unsupported` and not triaged.
 */
export function normalizeCloud(
  values: Value[],
  deliveryId: string,
  rawHash: string,
  now: Date,
): ParseResult {
  const messages: NormalizedMessage[] = []
  const events: ChannelEvent[] = []
  let skipped = 0
  for (const value of values) {
    for (const raw of value.messages ?? []) {
      const parsed = CloudMessage.safeParse(raw)
      if (!parsed.success) {
        skipped++
        continue
      }
      const message = normalizeMessage(value, parsed.data, rawHash, now)
      if (message) messages.push(message)
    }
    for (const raw of value.message_echoes ?? []) {
      const parsed = CloudEcho.safeParse(raw)
      if (parsed.success) messages.push(normalizeEcho(value, parsed.data, rawHash, now))
      else skipped++
    }
    for (const raw of value.statuses ?? []) {
      const parsed = CloudStatus.safeParse(raw)
      const event = parsed.success ? statusEvent(parsed.data) : null
      if (event) events.push(event)
      else skipped++
    }
  }
  if (messages.length === 0 && events.length === 0)
    return {
      kind: 'ignored',
      reason: skipped > 0 ? `${skipped} unreadable items` : 'nothing to store',
    }
  return { kind: 'accepted', deliveryId, messages, events }
}
