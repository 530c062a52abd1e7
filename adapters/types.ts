import type { z } from 'zod'
import type { EffectExecutor } from '../src/actions/effect-executor.js'
import type { Logger } from '../src/logger.js'
import type { ChannelEvent, NormalizedMessage } from '../src/normalized-message.js'
import type { Effect } from '../src/store/outbox-store.js'

/** What the HTTP layer hands an adapter. Header keys are lower-cased; `rawBody` is the exact bytes. */
export type InboundRequest = {
  method: string
  rawBody: Buffer
  /** sha256 hex of `rawBody`, computed once by the transport. */
  rawHash: string
  headers: Readonly<Record<string, string>>
  query: Readonly<Record<string, string>>
}

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
  /** Largest body accepted on this channel's webhook, in bytes. */
  readonly bodyLimit: number
  /** Pure: checks the delivery is authentic. Fails closed. */
  verify(req: InboundRequest, config: C, now: Date): VerifyResult
  /** Pure: turns an authentic delivery into normalized messages and events. */
  parse(req: InboundRequest, config: C, now: Date): ParseResult
  /**
   * Plans the effect that sends `text` to the customer in reply to a stored message, or says
   * why the channel cannot (no API, no address, outside a messaging window).
   */
  planReply?(reply: ReplyRequest, config: C): Effect | { unavailable: string }
  /** Executors for the effects this channel plans, built once at boot. */
  executors?(config: C, deps: { logger: Logger }): Map<string, EffectExecutor>
}

/** What a channel needs to answer a message it delivered. */
export type ReplyRequest = {
  /** Idempotency key of the reply effect. */
  key: string
  subject: string
  text: string
  /** True for automatic answers (FAQ, acknowledgement, out-of-hours notice). */
  automatic: boolean
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

/** Keeps `C` and `E` inferred per adapter. */
export const defineAdapter = <C, E extends z.ZodRawShape>(
  adapter: ChannelAdapter<C, E>,
): ChannelAdapter<C, E> => adapter

// biome-ignore lint/suspicious/noExplicitAny: the registry holds adapters of every config type
export type AnyAdapter = ChannelAdapter<any, any>
