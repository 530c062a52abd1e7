import { createHash } from 'node:crypto'
import { z } from 'zod'

/** A channel id: the adapter's folder name under `adapters/`. */
export const ChannelId = z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/)
export type ChannelId = z.infer<typeof ChannelId>

export const AuthorRole = z.enum(['visitor', 'customer', 'operator', 'agent', 'bot', 'system'])
export type AuthorRole = z.infer<typeof AuthorRole>

export const Language = z.enum(['es', 'en'])
export type Language = z.infer<typeof Language>

export const Attachment = z.object({
  name: z.string().max(512).optional(),
  contentType: z.string().max(255).optional(),
  size: z.number().int().nonnegative().optional(),
  /** The channel's own id for the media (WhatsApp media id, Chatwoot attachment id). */
  externalId: z.string().max(512).optional(),
  url: z.string().max(4096).optional(),
})
export type Attachment = z.infer<typeof Attachment>

export const ContactInfo = z.object({
  name: z.string().max(512).optional(),
  email: z.string().max(512).optional(),
  phone: z.string().max(64).optional(),
})
export type ContactInfo = z.infer<typeof ContactInfo>

const Iso = z.iso.datetime({ offset: true })

/**
 * One message, whatever channel it came from. Adapters produce these; everything after
 * ingest (store, triage, actions) sees only this shape.
 */
export const NormalizedMessage = z.object({
  channel: ChannelId,
  /** The channel's id for this message; unique per channel (dedupe key). */
  externalId: z.string().min(1).max(998),
  /** The channel's id for the thread this message belongs to. */
  conversationExternalId: z.string().min(1).max(998),
  /** The channel's id for the person who wrote it (the customer side of the thread). */
  contactExternalId: z.string().min(1).max(512),
  direction: z.enum(['inbound', 'outbound']),
  authorRole: AuthorRole,
  text: z.string().max(200_000),
  subject: z.string().max(998).optional(),
  /** Language when the channel says so; triage detects it otherwise. */
  language: Language.nullable(),
  attachments: z.array(Attachment).max(100),
  /** When the author sent it, as the channel reports it. */
  sentAt: Iso,
  /** When the hub received it. */
  receivedAt: Iso,
  /** sha256 of the raw delivery this message came in (the raw body itself is never stored). */
  rawHash: z.string().regex(/^[0-9a-f]{64}$/),
  contact: ContactInfo,
  /**
   * Whether the worker acts on this message: a customer's message is triaged; a person's answer
   * in a conversation the hub relays (meta.relayOf) is sent on. False for other agent and system lines.
   */
  triage: z.boolean(),
  /** Sent by a machine (auto-reply, bounce, list): stored and routed, never answered. */
  automated: z.boolean(),
  /**
   * External ids of earlier messages this one answers (email In-Reply-To and References,
   * WhatsApp context). The store files the message in the conversation of the first it knows.
   */
  threadRefs: z.array(z.string().max(998)).max(200).optional(),
  /** Channel-specific details the outbound side needs to answer (ids, thread headers). */
  meta: z.record(z.string(), z.unknown()),
})
export type NormalizedMessage = z.infer<typeof NormalizedMessage>

/** Something that happened on a channel that is not a message. */
export const ChannelEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('conversation_status'),
    channel: ChannelId,
    conversationExternalId: z.string().min(1),
    status: z.enum(['open', 'resolved', 'pending', 'snoozed']),
    at: Iso,
  }),
  z.object({
    type: z.literal('delivery_status'),
    channel: ChannelId,
    messageExternalId: z.string().min(1),
    status: z.enum(['sent', 'delivered', 'read', 'failed']),
    at: Iso,
    error: z.string().max(1000).optional(),
    /** The idempotency key the hub sent with the message, echoed back by the channel. */
    callbackKey: z.string().max(512).optional(),
  }),
  /**
   * A person changed how a conversation is labelled or which team has it, in the channel's own
   * inbox (Chatwoot): the hub reads it as a correction of its decision (`src/learning/`).
   */
  z.object({
    type: z.literal('triage_feedback'),
    channel: ChannelId,
    conversationExternalId: z.string().min(1),
    /** The hub's own conversation, when the channel's conversation mirrors it. */
    hubConversationId: z.number().int().positive().optional(),
    labels: z
      .object({ added: z.array(z.string().max(200)), removed: z.array(z.string().max(200)) })
      .optional(),
    /** The team the conversation has now (null: none). */
    team: z.object({ id: z.number().int().nullable(), name: z.string().nullable() }).optional(),
    actor: z.string().min(1).max(200),
    at: Iso,
  }),
])
export type ChannelEvent = z.infer<typeof ChannelEvent>

/**
 * The key under which a hub conversation's meta records its copy in a staff inbox (the
 * inbox's conversation external id): an agent's answer there is relayed only from that copy.
 */
export const mirrorKey = (channel: string) => `mirror:${channel}`

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}
