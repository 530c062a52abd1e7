import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type Effect, type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { PermanentError } from '../../src/contracts/errors.js'
import { boundHttpClient, classifyHttpError } from '../../src/kit/http-client.js'
import { CHANNEL } from './normalize-cloud.js'
import { recordSentMessage } from './record-sent.js'

export const WHATSAPP_CLOUD_SEND = 'whatsapp.cloud.send'

/** Free-form messages are allowed for 24 hours after the customer's last message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000

const Payload = z.object({
  phoneNumberId: z.string().regex(/^\d{1,32}$/),
  to: z.string().regex(/^\d{6,15}$/),
  text: z.string().min(1).max(4096),
  replyTo: z.string().nullable(),
  /** Unix ms after which the window is closed and the message must not be sent. */
  windowEndsAt: z.number(),
  conversationId: z.number().int(),
  automatic: z.boolean(),
})

export type CloudApiConfig = { graphUrl: string; accessToken: string; phoneNumberId: string }

/** The one Graph API call the hub makes: send a text message. */
export function graphApi(config: CloudApiConfig, timeoutMs?: number) {
  const http = boundHttpClient(
    config.graphUrl,
    { Authorization: `Bearer ${config.accessToken}` },
    timeoutMs,
  )
  return {
    sendText: async (body: {
      phoneNumberId: string
      to: string
      text: string
      replyTo: string | null
      callbackKey: string
    }): Promise<string> => {
      try {
        const { data } = await http.post<{ messages?: { id?: string }[] }>(
          `/${body.phoneNumberId}/messages`,
          {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            to: body.to,
            type: 'text',
            text: { body: body.text, preview_url: false },
            ...(body.replyTo ? { context: { message_id: body.replyTo } } : {}),
            // Comes back in the status callbacks: how a send cut short is recognised later.
            biz_opaque_callback_data: body.callbackKey,
          },
        )
        const id = data.messages?.[0]?.id
        if (!id) throw new PermanentError('whatsapp: the Graph API answered without a message id')
        return id
      } catch (err) {
        throw classifyHttpError('whatsapp: send message', err)
      }
    },
  }
}

/** The reply effect, or why none may be sent (the 24-hour window closed). */
export function cloudReply(request: {
  key: string
  subject: string
  phoneNumberId: string
  to: string
  text: string
  replyTo: string | null
  lastInboundAt: number | null
  conversationId: number
  automatic: boolean
  at: Date
}): Effect | { unavailable: string } {
  const windowEndsAt = (request.lastInboundAt ?? 0) + SERVICE_WINDOW_MS
  if (request.at.getTime() >= windowEndsAt) {
    return {
      unavailable:
        'the 24-hour WhatsApp window is closed: only an approved template may be sent, so a person follows up',
    }
  }
  return {
    kind: WHATSAPP_CLOUD_SEND,
    key: request.key,
    subject: request.subject,
    conversationId: request.conversationId,
    recipient: `+${request.to}`,
    automatic: request.automatic,
    payload: {
      phoneNumberId: request.phoneNumberId,
      to: request.to,
      text: request.text.slice(0, 4096),
      replyTo: request.replyTo,
      windowEndsAt,
      conversationId: request.conversationId,
      automatic: request.automatic,
    },
  }
}

/**
 * Sends `whatsapp.cloud.send` effects. Never after the window closed (a retry may come late);
 * never twice: a try that may have reached Meta is recognised by the status callback that
 * carries its key, or by the id recorded after sending.
 */
export function cloudExecutors(
  config: CloudApiConfig,
  deps: OutboundDeps,
): Map<string, EffectExecutor> {
  const api = graphApi(config, deps.timeoutMs)
  return new Map<string, EffectExecutor>([
    [
      WHATSAPP_CLOUD_SEND,
      async (run) => {
        const p = parsePayload(Payload, run)
        const known = await deps.store.sentWith(CHANNEL, run.key)
        const record = (id: string) =>
          recordSentMessage(
            deps,
            {
              key: run.key,
              id,
              conversationId: p.conversationId,
              text: p.text,
              automatic: p.automatic,
            },
            { waId: p.to },
          )
        if (known) {
          await record(known)
          return { messageId: known, found: true }
        }
        if (deps.now().getTime() >= p.windowEndsAt)
          throw new PermanentError(
            'whatsapp: the 24-hour window closed before the message could be sent',
          )
        const id = await api.sendText({
          phoneNumberId: p.phoneNumberId,
          to: p.to,
          text: p.text,
          replyTo: p.replyTo,
          callbackKey: run.key,
        })
        await record(id)
        return { messageId: id }
      },
    ],
  ])
}
