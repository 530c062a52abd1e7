import { z } from 'zod'

// Shapes of Chatwoot's webhook payloads, written from the code that builds them
// (Message#webhook_data, Conversations::EventDataPresenter; see shared/reference/channels.md §2.3).
// Objects are loose: Chatwoot adds fields between versions and we must not reject them.

const Id = z.number().int()
const Timestamp = z.union([z.string(), z.number()])

export const ChatwootContact = z.looseObject({
  id: Id,
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone_number: z.string().nullish(),
  identifier: z.string().nullish(),
  type: z.string().nullish(),
})

export const ChatwootAttachment = z.looseObject({
  id: Id.optional(),
  file_type: z.string().nullish(),
  data_url: z.string().nullish(),
  file_size: z.number().nullish(),
  extension: z.string().nullish(),
})

/** A message as nested in a conversation (`push_event_data`): message_type is an integer. */
export const ChatwootPushMessage = z.looseObject({
  id: Id,
  content: z.string().nullish(),
  message_type: z.union([z.number().int(), z.string()]),
  private: z.boolean().nullish(),
  created_at: Timestamp,
  content_attributes: z.record(z.string(), z.unknown()).nullish(),
  sender: ChatwootContact.nullish(),
  sender_type: z.string().nullish(),
  attachments: z.array(ChatwootAttachment).nullish(),
})

export const ChatwootConversation = z.looseObject({
  id: Id,
  inbox_id: Id.nullish(),
  channel: z.string().nullish(),
  status: z.string().nullish(),
  additional_attributes: z.record(z.string(), z.unknown()).nullish(),
  custom_attributes: z.record(z.string(), z.unknown()).nullish(),
  meta: z
    .looseObject({
      sender: ChatwootContact.nullish(),
      assignee: z.looseObject({ id: Id, name: z.string().nullish() }).nullish(),
      team: z.looseObject({ id: Id, name: z.string().nullish() }).nullish(),
    })
    .nullish(),
  messages: z.array(ChatwootPushMessage).nullish(),
  /** The conversation's labels and priority when the event was sent (message events). */
  labels: z.array(z.string()).nullish(),
  priority: z.string().nullish(),
  updated_at: Timestamp.nullish(),
  created_at: Timestamp.nullish(),
})

const Account = z.looseObject({ id: Id })

export const ChatwootMessageEvent = z.looseObject({
  event: z.enum(['message_created', 'message_updated']),
  id: Id,
  account: Account,
  content: z.string().nullish(),
  content_type: z.string().nullish(),
  content_attributes: z.record(z.string(), z.unknown()).nullish(),
  message_type: z.union([
    z.enum(['incoming', 'outgoing', 'template', 'activity']),
    z.number().int(),
  ]),
  private: z.boolean().nullish(),
  created_at: Timestamp,
  updated_at: Timestamp.nullish(),
  conversation: ChatwootConversation,
  sender: ChatwootContact.nullish(),
  inbox: z.looseObject({ id: Id, name: z.string().nullish() }).nullish(),
  attachments: z.array(ChatwootAttachment).nullish(),
  source_id: z.string().nullish(),
})
export type ChatwootMessageEvent = z.infer<typeof ChatwootMessageEvent>

/** One entry of `changed_attributes`: `{"<attribute>": {previous_value, current_value}}`. */
const ChangedAttribute = z.record(
  z.string(),
  z.looseObject({ previous_value: z.unknown(), current_value: z.unknown() }).nullish(),
)

export const ChatwootConversationEvent = ChatwootConversation.extend({
  event: z.enum(['conversation_created', 'conversation_status_changed', 'conversation_updated']),
  account: Account,
  labels: z.array(z.string()).nullish(),
  changed_attributes: z.array(ChangedAttribute).nullish(),
})
export type ChatwootConversationEvent = z.infer<typeof ChatwootConversationEvent>

/** Just enough to route: every payload names its event. */
export const ChatwootEnvelope = z.looseObject({ event: z.string() })

/**
 * A Chatwoot conversation's labels, priority, team and agent as its webhook said, kept in
 * each stored message's `meta.conversationState`.
 */
export const ChatwootState = z.object({
  labels: z.array(z.string()),
  priority: z.string().nullable(),
  teamId: Id.nullable(),
  teamName: z.string().nullable(),
  assigneeId: Id.nullable(),
  /** When the hub received the webhook that said it (epoch ms). */
  at: z.number(),
})
export type ChatwootState = z.infer<typeof ChatwootState>
