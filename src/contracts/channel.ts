import type { z } from 'zod'
import type { Logger } from '../kit/logger.js'
import type { Effect, EffectExecutor } from './effect.js'
import type { ChannelEvent, NormalizedMessage } from './message.js'

/** What the HTTP layer hands an adapter. Header keys are lower-cased; `rawBody` is the exact bytes. */
export type InboundRequest = {
  method: string
  rawBody: Buffer
  /** sha256 hex of `rawBody`, computed once by the transport. */
  rawHash: string
  headers: Readonly<Record<string, string>>
  query: Readonly<Record<string, string>>
}

/** The parts of a request known before its body is read. */
export type RequestHead = Omit<InboundRequest, 'rawBody' | 'rawHash'>

/** `reason` is logged, never sent back to the caller. */
export type VerifyResult = { ok: true } | { ok: false; reason: string }

export type ParseResult =
  | {
      kind: 'accepted'
      /** Stable id of this delivery across the sender's retries (dedupe key). */
      deliveryId: string
      messages: NormalizedMessage[]
      events: ChannelEvent[]
    }
  | { kind: 'handshake'; status: 200 | 400 | 403; body: string } // e.g. WhatsApp hub.challenge
  | { kind: 'ignored'; reason: string } // own echoes, event types we do not use
  | { kind: 'invalid'; reason: string } // -> 400 with this reason

/**
 * A channel's settings. `inbound` says whether its webhook accepts traffic: a channel whose
 * secret is missing is disabled and says why; it never accepts unsigned traffic. `config`
 * is always there, since outbound use (replying, mirroring) may work without inbound.
 */
export type ChannelSettings<C> = {
  config: C
  inbound: { enabled: true } | { enabled: false; reason: string }
}

/**
 * A channel: how to read its settings, verify and parse what it sends.
 * Adapters are stateless object literals; `adapters/registry.ts` lists them.
 */
export interface ChannelAdapter<C = unknown, E extends z.ZodRawShape = z.ZodRawShape> {
  readonly id: string
  /** The environment variables this channel reads, as a zod shape (merged into the boot config). */
  readonly env: E
  /** Builds the channel's settings from its parsed variables. */
  configure(env: z.infer<z.ZodObject<E>>): ChannelSettings<C>
  /** What the webhook body is: JSON (WEBHOOK_BODY_LIMIT) or raw MIME (MIME_BODY_LIMIT). */
  readonly body: 'json' | 'mime'
  /**
   * False for a sender that delivers each webhook once and drops it when refused (Chatwoot):
   * its deliveries are stored however busy the hub is, never turned away with 429 or 503.
   * Senders that retry (the default) are asked to slow down instead.
   */
  readonly redelivers?: boolean
  /**
   * Pure: checks what can be checked before the body is read (the signature header is there
   * and, where the channel signs a time, fresh; a token that does not depend on the body is
   * right), so a request that cannot be authentic is refused without reading its body. Fails
   * closed; `verify` still runs on the whole request.
   */
  checkHead(head: RequestHead, config: C, now: Date): VerifyResult
  /** Pure: checks the delivery is authentic. Fails closed. */
  verify(req: InboundRequest, config: C, now: Date): VerifyResult
  /** Turns an authentic delivery into normalized messages and events (no side effects). */
  parse(req: InboundRequest, config: C, now: Date): ParseResult | Promise<ParseResult>
  /**
   * Plans the effect that sends `text` to the customer in reply to a stored message, or says
   * why the channel cannot (no API, no address, outside a messaging window).
   */
  planReply?(reply: ReplyRequest, config: C, tools: ReplyTools): Effect | { unavailable: string }
  /**
   * Hands the conversation to a person inside the channel itself, where the channel has its
   * own staff side (the business's app assigns it to the customer's operator or a queue).
   */
  planHandoff?(handoff: HandoffRequest, config: C): Effect[]
  /**
   * Alerts people (escalations, SLA warnings and breaches) by the means this channel offers,
   * one list of effects per means it covers.
   */
  notify?(notification: Notification, config: C): Partial<Record<NotifyVia, Effect[]>>
  /** A channel that only sends (SMS, push): it has no webhook. */
  readonly outboundOnly?: boolean
  /** Executors for the effects this channel plans, built once at boot. */
  executors?(config: C, deps: OutboundDeps): Map<string, EffectExecutor>
  /** Inbound sources that are not webhooks (an SMTP listener, an IMAP poller, a session). */
  sources?(config: C, deps: SourceDeps): Source[]
  /**
   * A staff inbox (Chatwoot): where queues' teams work the conversations the hub hands them,
   * the channel's own or copied in from other channels.
   */
  readonly inbox?: StaffInbox<C>
  /** Ways to reach customers this channel offers to the others (email, for Tawk.to visitors). */
  replyTools?(config: C): Partial<ReplyTools>
  /** Addresses this channel receives for (an email channel's own address). */
  mailboxes?(config: C): string[]
}

/** A queue as a staff inbox sees it: its id and name, and its settings for this inbox. */
export type InboxQueue = {
  id: string
  name: string
  /** `inbox.<channel id>` of the queue in the rulebook, checked by `StaffInbox.queueSettings`. */
  settings: unknown
}

/** A conversation the hub gives to a queue, as a staff inbox needs it. */
export type InboxHandoff = {
  /** Prefix of the effects' idempotency keys. */
  keyPrefix: string
  /** What the effects are about, for listings (`message:12`). */
  subject: string
  message: {
    id: number
    channel: string
    externalId: string
    meta: Record<string, unknown>
    subject: string | null
    text: string
  }
  conversation: { id: number; externalId: string; meta: Record<string, unknown> }
  contact: {
    externalId: string
    name: string | null
    email: string | null
    phone: string | null
  }
  queue: InboxQueue | null
  /** The decision as labels: intent, priority, level and signals ids. */
  labels: string[]
  /** The decision's priority, with its settings for this inbox (`inbox.<channel id>`). */
  priority: { id: string; settings: unknown }
  /** The decision in words, for the people (a private note). */
  note: string
}

/** What a staff inbox does with conversations the hub hands over. */
export type StaffInbox<C> = {
  /** A queue's settings for this inbox (`queues.<id>.inbox.<channel id>` in the rulebook). */
  readonly queueSettings: z.ZodType
  /** A priority's settings for this inbox (`priorities.<id>.inbox.<channel id>`). */
  readonly prioritySettings: z.ZodType
  /**
   * Hands the conversation to the queue's team in this inbox, or says in `notes` why it
   * cannot (not configured, nothing to copy the conversation into).
   */
  planHandoff(handoff: InboxHandoff, config: C): { effects: Effect[]; notes: string[] }
  /** The queues whose team in this inbox is `team` (a person moved a conversation there). */
  queuesOfTeam(
    team: { id: number | null; name: string | null },
    queues: readonly InboxQueue[],
  ): string[]
}

/** What executors may use besides their upstream: a logger, the hub's records and its clock. */
export type OutboundDeps = {
  logger: Logger
  store: OutboundStore
  now(): Date
  /** How long an outbound HTTP call may take (OUTBOUND_TIMEOUT_MS). */
  timeoutMs: number
  /** Small durable state (whose turn it is in a round-robin). */
  state: SmallState
  /** A random secret the hub keeps in its database under `name`, made on first use. */
  secret(name: string): Promise<Buffer>
}

/** Small durable key/value state the hub keeps for a channel. */
export type SmallState = {
  get(key: string): Promise<string | null>
  set(key: string, value: string): Promise<void>
}

/** The part of the store outbound executors need. */
export interface OutboundStore {
  /** Records a message the hub sent, so replies to it thread back and receipts update it. */
  recordOutbound(message: OutboundRecord): Promise<void>
  /** Whether a message with this external id is already recorded on the channel. */
  hasMessage(channel: string, externalId: string): Promise<boolean>
  conversationMeta(conversationId: number): Promise<Record<string, unknown>>
  mergeConversationMeta(conversationId: number, patch: Record<string, unknown>): Promise<void>
  /**
   * The channel's id of a message sent under an effect key, when known: recorded by the
   * executor after sending, or confirmed by the channel (a status callback carrying the key).
   */
  sentWith(channel: string, effectKey: string): Promise<string | null>
  recordSent(channel: string, effectKey: string, externalId: string): Promise<void>
}

export type OutboundRecord = {
  channel: string
  externalId: string
  conversationId: number
  authorRole: 'bot' | 'agent' | 'system'
  text: string
  subject?: string | null
  meta: Record<string, unknown>
  automated: boolean
}

/** Ways to reach a customer other than the channel itself (Tawk.to visitors get email). */
export type ReplyTools = {
  /** An email effect to `to`, or why email cannot be sent; null when email is not configured. */
  email: ((message: EmailReplyRequest) => Effect | { unavailable: string }) | null
}

export type EmailReplyRequest = {
  key: string
  subject: string
  conversationId: number
  to: string
  title: string
  text: string
  automatic: boolean
  inReplyTo?: string | null
  references?: string[]
  /** A reply to a customer (default), a conversation handed to a queue, or a notice to staff. */
  kind?: 'reply' | 'queue_notification' | 'notification'
  /** The customer message a queue notification is about: an answer to it answers that one. */
  about?: number
}

/** A long-lived inbound source; started after the store is open, stopped on shutdown. */
export type Source = {
  name: string
  start(): Promise<void>
  stop(): Promise<void>
  /** For /readyz and the console: 'ok', or what is wrong. */
  health(): string
  /** Details for the admin console (a session's state, its login QR code). */
  snapshot?(): Record<string, unknown>
}

export type SourceDeps = {
  logger: Logger
  /** Persists what the source received (dedupe + store + enqueue); resolves after commit. */
  accept(delivery: {
    deliveryId: string | null
    rawHash: string
    messages: NormalizedMessage[]
    events: ChannelEvent[]
  }): Promise<{ outcome: string }>
  /** Small durable state (IMAP UIDVALIDITY and last UID). */
  state: SmallState
  /** Addresses the hub receives mail for: its own and the rulebook's queue mailboxes. */
  mailboxes(): string[]
  /** The hub is behind (triage backlog over its bound): take nothing new for now. */
  busy(): boolean
  now(): Date
}

/** What a channel needs to answer a message it delivered. */
export type ReplyRequest = {
  /** Idempotency key of the reply effect. */
  key: string
  subject: string
  text: string
  /** Language of `text`. */
  language: 'es' | 'en'
  /** True for automatic answers (FAQ, acknowledgement, out-of-hours notice). */
  automatic: boolean
  /** For staff only, where the channel has private notes (Chatwoot); others send it as usual. */
  private?: boolean
  /** When the reply is planned (messaging windows are counted from here). */
  at: Date
  message: {
    id: number
    externalId: string
    meta: Record<string, unknown>
    subject: string | null
    sentAt: number
  }
  conversation: {
    id: number
    externalId: string
    meta: Record<string, unknown>
    lastInboundAt: number | null
  }
  contact: { name: string | null; email: string | null; phone: string | null; externalId: string }
}

/**
 * What the staff inboxes among `adapters` accept as queue and priority settings in the
 * rulebook (`inbox.<channel id>`), for checking the rulebook when it is loaded.
 */
export function inboxSchemas(
  adapters: readonly AnyAdapter[],
): ReadonlyMap<string, { queue: z.ZodType; priority: z.ZodType }> {
  return new Map(
    adapters.flatMap((a) =>
      a.inbox
        ? [[a.id, { queue: a.inbox.queueSettings, priority: a.inbox.prioritySettings }] as const]
        : [],
    ),
  )
}

/** Keeps `C` and `E` inferred per adapter. */
export const defineAdapter = <C, E extends z.ZodRawShape>(
  adapter: ChannelAdapter<C, E>,
): ChannelAdapter<C, E> => adapter

// biome-ignore lint/suspicious/noExplicitAny: the registry holds adapters of every config type
export type AnyAdapter = ChannelAdapter<any, any>

/** A channel as the hub runs it: its adapter and the settings read from the environment. */
export type ChannelEntry = { adapter: AnyAdapter; settings: ChannelSettings<unknown> }

/** A decision that gives the conversation to a queue or an operator, as a channel sees it. */
export type HandoffRequest = {
  key: string
  subject: string
  conversation: { id: number; externalId: string; meta: Record<string, unknown> }
  message: { externalId: string; meta: Record<string, unknown> }
  contact: { externalId: string }
  queue: { id: string; name: string } | null
  operator: string | null
  intent: string
  priority: string
  level: string | null
  ticket: string | null
  /** The decision in words (what the admins read). */
  note: string
}

export type NotifyVia = 'push' | 'email' | 'sms' | 'call'

/** An alert to people (not customers): who, by which means, saying what. */
export type Notification = {
  /** Unique per alert; channels add the recipient to make each effect's key. */
  key: string
  subject: string
  via: readonly NotifyVia[]
  /** Push topic: the queue alerted. */
  topic: string
  title: string
  text: string
  urgent: boolean
  emails: readonly string[]
  phones: readonly string[]
  conversationId?: number
}
