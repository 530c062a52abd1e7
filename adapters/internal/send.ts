import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { boundHttpClient, classifyHttpError } from '../../src/kit/http-client.js'
import { signedHeaders } from '../shared/standard-webhooks.js'

export const INTERNAL_SEND = 'internal.send'

export type InternalCallback = { url: string; secret: string }

/** What the hub posts back to the app: a message for a user, or a conversation handed over. */
const Event = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    conversation_id: z.string(),
    user_id: z.string(),
    text: z.string().min(1),
    automatic: z.boolean(),
    in_reply_to: z.string().nullable(),
  }),
  z.object({
    type: z.literal('handoff'),
    conversation_id: z.string(),
    user_id: z.string(),
    operator_id: z.string().nullable(),
    queue: z.string().nullable(),
    queue_name: z.string().nullable(),
    intent: z.string(),
    priority: z.string(),
    level: z.string().nullable(),
    ticket: z.string().nullable(),
    note: z.string(),
  }),
])
export type InternalEvent = z.infer<typeof Event>

/**
 * Posts events to INTERNAL_CALLBACK_URL, signed like the app's own webhooks (Standard
 * Webhooks). The effect's idempotency key is the `webhook-id`, so a retry the app already
 * received is recognised there as the same delivery.
 */
export function internalExecutors(
  callback: InternalCallback,
  deps: OutboundDeps,
): Map<string, EffectExecutor> {
  const url = new URL(callback.url)
  const http = boundHttpClient(url.origin, {}, deps.timeoutMs)
  const path = `${url.pathname}${url.search}`
  return new Map<string, EffectExecutor>([
    [
      INTERNAL_SEND,
      async (run) => {
        const event = parsePayload(Event, run)
        const body = JSON.stringify(event)
        try {
          await http.post(path, body, {
            headers: signedHeaders(callback.secret, run.key, body, deps.now()),
          })
        } catch (err) {
          throw classifyHttpError('internal: callback', err)
        }
        return { delivered: event.type }
      },
    ],
  ])
}
