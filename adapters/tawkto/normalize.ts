import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { ParseResult } from '../../src/contracts/channel.js'
import type { AuthorRole, NormalizedMessage } from '../../src/contracts/message.js'
import { fold } from '../../src/kit/fold.js'
import type { TawkEvent } from './schema.js'

export const CHANNEL = 'tawkto'

type Sender = 'v' | 'a' | 's'

const ROLE: Record<Sender, AuthorRole> = { v: 'visitor', a: 'agent', s: 'system' }

function senderOf(type: string | null | undefined): Sender {
  const t = (type ?? '').toLowerCase()
  if (t === 'v' || t === 'visitor') return 'v'
  if (t === 'a' || t === 'agent') return 'a'
  return 's'
}

function iso(value: string | null | undefined, fallback: Date): string {
  const parsed = value ? Date.parse(value) : Number.NaN
  return Number.isNaN(parsed) ? fallback.toISOString() : new Date(parsed).toISOString()
}

/**
 * Tawk.to gives chat lines no ids. A line's id is its chat, its sender and a hash of its
 * text, numbered when the same sender repeats the same text, so the first message of
 * `chat:start` and the same line in the later transcript are one message, not two.
 */
function lineIds(chatId: string, lines: { sender: Sender; text: string }[]): string[] {
  const seen = new Map<string, number>()
  return lines.map(({ sender, text }) => {
    const digest = createHash('sha256').update(fold(text).trim()).digest('hex').slice(0, 16)
    const key = `${sender}:${digest}`
    const n = (seen.get(key) ?? 0) + 1
    seen.set(key, n)
    return `${chatId}:${key}:${n}`
  })
}

type Visitor = {
  name?: string | null
  email?: string | null
  city?: string | null
  country?: string | null
}

/** The visitor's email when it is one address: a form field may hold anything ("a@x, b@y"). */
function oneAddress(value: string | null | undefined): string | undefined {
  const email = value?.trim().toLowerCase()
  return email && z.email().safeParse(email).success ? email : undefined
}

function contactOf(visitor: Visitor | null | undefined, fallbackId: string) {
  const email = oneAddress(visitor?.email)
  // Anonymous visitors get generated names like "V1561719148780935": not a person's name.
  const name = visitor?.name && !/^V\d{6,}$/.test(visitor.name) ? visitor.name : undefined
  return {
    id: email ?? fallbackId,
    info: { ...(name ? { name } : {}), ...(email ? { email } : {}) },
  }
}

export function normalizeTawk(
  event: TawkEvent,
  deliveryId: string,
  rawHash: string,
  now: Date,
): ParseResult {
  const base = {
    channel: CHANNEL,
    language: null,
    attachments: [],
    receivedAt: now.toISOString(),
    rawHash,
    automated: false,
  }
  switch (event.event) {
    case 'chat:start': {
      const text = event.message.text ?? ''
      if (!text.trim()) return { kind: 'ignored', reason: 'chat started without text' }
      const sender = senderOf(event.message.sender?.type)
      const contact = contactOf(event.visitor, `visitor:${event.chatId}`)
      const [externalId] = lineIds(event.chatId, [{ sender, text }])
      const message: NormalizedMessage = {
        ...base,
        externalId: externalId!,
        conversationExternalId: `chat:${event.chatId}`,
        contactExternalId: contact.id,
        direction: sender === 'v' ? 'inbound' : 'outbound',
        authorRole: ROLE[sender],
        text,
        sentAt: iso(event.time, now),
        contact: contact.info,
        triage: sender === 'v',
        meta: chatMeta(event.chatId, event.visitor, event.property),
      }
      return { kind: 'accepted', deliveryId, messages: [message], events: [] }
    }
    case 'chat:transcript_created': {
      const chatId = event.chat.id
      const contact = contactOf(event.chat.visitor, `visitor:${chatId}`)
      const lines = event.chat.messages
        .map((m) => ({
          sender: senderOf(m.sender?.t),
          text: m.msg ?? '',
          time: m.time,
          name: m.sender?.n,
        }))
        .filter((m) => m.text.trim() !== '')
      const ids = lineIds(chatId, lines)
      const messages: NormalizedMessage[] = lines.map((line, i) => ({
        ...base,
        externalId: ids[i]!,
        conversationExternalId: `chat:${chatId}`,
        contactExternalId: contact.id,
        direction: line.sender === 'v' ? 'inbound' : 'outbound',
        authorRole: ROLE[line.sender],
        text: line.text,
        sentAt: iso(line.time, now),
        contact: contact.info,
        triage: line.sender === 'v',
        meta: {
          ...chatMeta(chatId, event.chat.visitor, event.property),
          ...(line.name ? { senderName: line.name } : {}),
        },
      }))
      if (messages.length === 0) return { kind: 'ignored', reason: 'empty transcript' }
      return { kind: 'accepted', deliveryId, messages, events: [] }
    }
    case 'ticket:create': {
      const contact = contactOf(event.requester, `ticket:${event.ticket.id}`)
      const text = event.ticket.message ?? ''
      const message: NormalizedMessage = {
        ...base,
        externalId: `ticket:${event.ticket.id}`,
        conversationExternalId: `ticket:${event.ticket.id}`,
        contactExternalId: contact.id,
        direction: 'inbound',
        authorRole: 'visitor',
        text,
        ...(event.ticket.subject ? { subject: event.ticket.subject.slice(0, 998) } : {}),
        sentAt: iso(event.time, now),
        contact: contact.info,
        triage: true,
        meta: {
          kind: 'ticket',
          ticketId: event.ticket.id,
          humanId: event.ticket.humanId ?? null,
          propertyId: event.property?.id ?? null,
          propertyName: event.property?.name ?? null,
        },
      }
      return { kind: 'accepted', deliveryId, messages: [message], events: [] }
    }
    case 'chat:end':
      // Tawk.to sends the transcript a few minutes later; the end itself changes nothing here.
      return { kind: 'ignored', reason: 'chat:end' }
  }
}

function chatMeta(
  chatId: string,
  visitor: Visitor | null | undefined,
  property: { id: string; name?: string | null } | null | undefined,
) {
  return {
    kind: 'chat',
    chatId,
    propertyId: property?.id ?? null,
    propertyName: property?.name ?? null,
    city: visitor?.city ?? null,
    country: visitor?.country ?? null,
  }
}
