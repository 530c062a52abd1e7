import type { z } from 'zod'
import type { ParseResult } from '../../src/contracts/channel.js'
import type {
  Attachment,
  AuthorRole,
  ChannelEvent,
  NormalizedMessage,
} from '../../src/contracts/message.js'
import type {
  ChatwootConversation,
  ChatwootConversationEvent,
  ChatwootMessageEvent,
  ChatwootPushMessage,
  ChatwootState,
} from './schema.js'

export const CHANNEL = 'chatwoot'

/**
 * Key under `content_attributes` that marks messages the hub wrote. Chatwoot stores it as sent
 * and echoes it in its webhooks, so the hub recognises and skips its own messages.
 */
export const HUB_MARKER = 'centralita'

/** Conversation custom attribute linking a mirrored Chatwoot conversation to the hub's. */
export const MIRROR_ATTRIBUTE = 'centralita_conversation'

type Conversation = z.infer<typeof ChatwootConversation>

function toIso(value: string | number | null | undefined, fallback: Date): string {
  if (typeof value === 'number') return new Date(value * 1000).toISOString()
  if (typeof value === 'string') {
    const parsed = Date.parse(value)
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString()
  }
  return fallback.toISOString()
}

const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const

function messageType(value: string | number): (typeof MESSAGE_TYPES)[number] | undefined {
  if (typeof value === 'number') return MESSAGE_TYPES[value]
  return MESSAGE_TYPES.find((t) => t === value)
}

function isAutomated(
  contentAttributes: Record<string, unknown> | null | undefined,
  conversation: Conversation,
): boolean {
  const email = contentAttributes?.email as { auto_reply?: unknown } | undefined
  return email?.auto_reply === true || conversation.additional_attributes?.auto_reply === true
}

type MessageFields = {
  id: number
  content: string | null | undefined
  type: (typeof MESSAGE_TYPES)[number]
  createdAt: string | number
  contentAttributes: Record<string, unknown> | null | undefined
  senderType: string | null | undefined
  senderId: number | undefined
  senderName?: string | null
  attachments: z.infer<typeof ChatwootPushMessage>['attachments']
  sourceId?: string | null
}

function roleOf(fields: MessageFields, conversation: Conversation): AuthorRole {
  if (fields.type === 'incoming') {
    return conversation.channel === 'Channel::WebWidget' ? 'visitor' : 'customer'
  }
  if (fields.type === 'template') return 'bot'
  return fields.senderType === 'agent_bot' || fields.senderType === 'AgentBot' ? 'bot' : 'agent'
}

function normalizeOne(
  accountId: number,
  conversation: Conversation,
  fields: MessageFields,
  rawHash: string,
  now: Date,
): NormalizedMessage {
  const contact = conversation.meta?.sender
  const inbound = fields.type === 'incoming'
  const role = roleOf(fields, conversation)
  // An agent's answer in a conversation the hub mirrored here goes back to the customer.
  const mirrorOf = conversation.custom_attributes?.[MIRROR_ATTRIBUTE]
  const relayOf = role === 'agent' && typeof mirrorOf === 'number' ? mirrorOf : null
  const contactId = contact?.id ?? (inbound ? fields.senderId : undefined)
  const attachments: Attachment[] = (fields.attachments ?? []).map((a) => ({
    ...(a.id !== undefined ? { externalId: String(a.id) } : {}),
    ...(a.file_type ? { contentType: a.file_type } : {}),
    ...(a.data_url ? { url: a.data_url } : {}),
    ...(typeof a.file_size === 'number' ? { size: a.file_size } : {}),
  }))
  return {
    channel: CHANNEL,
    externalId: `${accountId}:${fields.id}`,
    conversationExternalId: `${accountId}:${conversation.id}`,
    contactExternalId: `${accountId}:${contactId ?? `conversation-${conversation.id}`}`,
    direction: inbound ? 'inbound' : 'outbound',
    authorRole: role,
    text: fields.content ?? '',
    language: null,
    attachments,
    sentAt: toIso(fields.createdAt, now),
    receivedAt: now.toISOString(),
    rawHash,
    contact: {
      ...(contact?.name ? { name: contact.name } : {}),
      ...(contact?.email ? { email: contact.email } : {}),
      ...(contact?.phone_number ? { phone: contact.phone_number } : {}),
    },
    triage: inbound || relayOf !== null,
    automated: isAutomated(fields.contentAttributes, conversation),
    meta: {
      accountId,
      conversationId: conversation.id,
      messageId: fields.id,
      inboxId: conversation.inbox_id ?? null,
      channelType: conversation.channel ?? null,
      ...(fields.sourceId ? { sourceId: fields.sourceId } : {}),
      ...(relayOf !== null ? { relayOf } : {}),
      ...(!inbound && fields.senderName ? { senderName: fields.senderName } : {}),
      ...stateOf(conversation, now),
    },
  }
}

/**
 * What the conversation already has (labels, priority, team, agent) as Chatwoot said when it
 * sent the message, so the handoff skips what is already true. Only when Chatwoot said it:
 * without its labels nothing is known, and nothing is skipped.
 */
function stateOf(conversation: Conversation, now: Date): { conversationState?: ChatwootState } {
  if (!Array.isArray(conversation.labels)) return {}
  return {
    conversationState: {
      labels: conversation.labels,
      priority: conversation.priority ?? null,
      teamId: conversation.meta?.team?.id ?? null,
      teamName: conversation.meta?.team?.name ?? null,
      assigneeId: conversation.meta?.assignee?.id ?? null,
      at: now.getTime(),
    },
  }
}

/** Why a message is skipped, or null when it should be stored. */
function skipReason(fields: MessageFields, isPrivate: boolean | null | undefined): string | null {
  if (fields.contentAttributes && HUB_MARKER in fields.contentAttributes) return 'own message'
  if (isPrivate) return 'private note'
  if (fields.type === 'activity') return 'activity message'
  return null
}

export function normalizeMessageEvent(
  event: ChatwootMessageEvent,
  deliveryId: string,
  rawHash: string,
  now: Date,
): ParseResult {
  if (event.event === 'message_updated') return { kind: 'ignored', reason: 'message_updated' }
  const type = messageType(event.message_type)
  if (!type) return { kind: 'invalid', reason: 'unknown message_type' }
  const fields: MessageFields = {
    id: event.id,
    content: event.content,
    type,
    createdAt: event.created_at,
    contentAttributes: event.content_attributes,
    senderType: event.sender?.type,
    senderId: event.sender?.id,
    senderName: event.sender?.name ?? null,
    attachments: event.attachments,
    sourceId: event.source_id,
  }
  const skip = skipReason(fields, event.private)
  if (skip) return { kind: 'ignored', reason: skip }
  return {
    kind: 'accepted',
    deliveryId,
    messages: [normalizeOne(event.account.id, event.conversation, fields, rawHash, now)],
    events: [],
  }
}

export function normalizeConversationEvent(
  event: ChatwootConversationEvent,
  deliveryId: string,
  rawHash: string,
  now: Date,
): ParseResult {
  const accountId = event.account.id
  if (event.event === 'conversation_created') {
    // It carries the latest message when there is one; message_created brings the same message
    // again and the store's per-message dedupe keeps a single copy.
    const messages: NormalizedMessage[] = []
    for (const message of event.messages ?? []) {
      const type = messageType(message.message_type)
      if (!type) continue
      const fields: MessageFields = {
        id: message.id,
        content: message.content,
        type,
        createdAt: message.created_at,
        contentAttributes: message.content_attributes,
        senderType: message.sender?.type ?? message.sender_type,
        senderId: message.sender?.id,
        attachments: message.attachments,
      }
      if (skipReason(fields, message.private)) continue
      messages.push(normalizeOne(accountId, event, fields, rawHash, now))
    }
    if (messages.length === 0) return { kind: 'ignored', reason: 'conversation without messages' }
    return { kind: 'accepted', deliveryId, messages, events: [] }
  }
  if (event.event === 'conversation_status_changed') {
    const status = event.status
    if (
      status !== 'open' &&
      status !== 'resolved' &&
      status !== 'pending' &&
      status !== 'snoozed'
    ) {
      return { kind: 'invalid', reason: 'unknown conversation status' }
    }
    const changed: ChannelEvent = {
      type: 'conversation_status',
      channel: CHANNEL,
      conversationExternalId: `${accountId}:${event.id}`,
      status,
      at: now.toISOString(),
    }
    return { kind: 'accepted', deliveryId, messages: [], events: [changed] }
  }
  if (event.event === 'conversation_updated') {
    const feedback = feedbackOf(event, now)
    return feedback
      ? { kind: 'accepted', deliveryId, messages: [], events: [feedback] }
      : { kind: 'ignored', reason: 'conversation_updated without a label or team change' }
  }
  return { kind: 'ignored', reason: event.event }
}

/**
 * A change of the conversation's labels or team, for the hub to read as a correction of its
 * decision (`src/learning/channel-feedback.ts`). Chatwoot reports `label_list` as arrays (and
 * `cached_label_list` as a comma-separated string) and `team_id` as ids, with the current team
 * in `meta.team`. Its webhook does not say who made the change: the conversation's assignee is
 * named, as the person most likely to have.
 */
function feedbackOf(event: ChatwootConversationEvent, now: Date): ChannelEvent | null {
  const changes = new Map<string, { previous_value?: unknown; current_value?: unknown }>()
  for (const entry of event.changed_attributes ?? [])
    for (const [name, change] of Object.entries(entry)) if (change) changes.set(name, change)
  const labels = changes.get('label_list') ?? changes.get('cached_label_list')
  const team = changes.get('team_id')
  if (!labels && !team) return null
  const listOf = (value: unknown): string[] =>
    Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : typeof value === 'string'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
        : []
  const before = new Set(listOf(labels?.previous_value))
  const after = new Set(listOf(labels?.current_value))
  const mirrorOf = event.custom_attributes?.[MIRROR_ATTRIBUTE]
  const currentTeam = typeof team?.current_value === 'number' ? team.current_value : null
  const assignee = event.meta?.assignee?.name
  return {
    type: 'triage_feedback',
    channel: CHANNEL,
    conversationExternalId: `${event.account.id}:${event.id}`,
    ...(typeof mirrorOf === 'number' && Number.isInteger(mirrorOf) && mirrorOf > 0
      ? { hubConversationId: mirrorOf }
      : {}),
    ...(labels
      ? {
          labels: {
            added: [...after].filter((l) => !before.has(l)),
            removed: [...before].filter((l) => !after.has(l)),
          },
        }
      : {}),
    ...(team
      ? {
          team: {
            id: currentTeam,
            name:
              currentTeam !== null && event.meta?.team?.id === currentTeam
                ? (event.meta.team.name ?? null)
                : null,
          },
        }
      : {}),
    actor: assignee ? `chatwoot: ${assignee}`.slice(0, 200) : 'chatwoot',
    at: now.toISOString(),
  }
}
