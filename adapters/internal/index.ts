import { z } from 'zod'
import {
  defineAdapter,
  type InboundRequest,
  type ParseResult,
} from '../../src/contracts/channel.js'
import { describeZodError, parseJson } from '../shared/parse-json.js'
import {
  checkStandardHead,
  verifyStandardWebhook,
  weakSecret,
} from '../shared/standard-webhooks.js'
import { InternalMessage } from './schema.js'
import { INTERNAL_SEND, type InternalCallback, internalExecutors } from './send.js'

export const CHANNEL = 'internal'

export type InternalConfig = { secret: string | null; callback: InternalCallback | null }

const ROLE = { cliente: 'customer', operador: 'operator' } as const

function normalize(
  m: InternalMessage,
  webhookId: string,
  req: InboundRequest,
  now: Date,
): ParseResult {
  const conversationId = m.conversation_id ?? `user:${m.user.id}`
  return {
    kind: 'accepted',
    deliveryId: webhookId,
    events: [],
    messages: [
      {
        channel: CHANNEL,
        externalId: m.message_id ?? webhookId,
        conversationExternalId: conversationId,
        contactExternalId: m.user.id,
        direction: 'inbound',
        authorRole: ROLE[m.user.role],
        text: m.text,
        language: null,
        attachments: [],
        sentAt: m.sent_at ? new Date(m.sent_at).toISOString() : now.toISOString(),
        receivedAt: now.toISOString(),
        rawHash: req.rawHash,
        contact: {
          ...(m.user.name ? { name: m.user.name } : {}),
          ...(m.user.email ? { email: m.user.email.toLowerCase() } : {}),
          ...(m.user.phone ? { phone: m.user.phone } : {}),
        },
        triage: m.text.trim() !== '',
        automated: false,
        meta: {
          conversationId,
          userId: m.user.id,
          userRole: m.user.role,
          // Read by the routing ("a customer's message goes to their operator").
          assignedOperator: m.assigned_operator_id ?? null,
          messageId: m.message_id ?? webhookId,
        },
      },
    ],
  }
}

export const internal = defineAdapter({
  id: CHANNEL,
  env: {
    INTERNAL_WEBHOOK_SECRET: z
      .string()
      .superRefine((secret, ctx) => {
        const weak = weakSecret(secret)
        if (weak) ctx.addIssue({ code: 'custom', message: weak })
      })
      .optional(),
    INTERNAL_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  },
  configure(env) {
    const config: InternalConfig = {
      secret: env.INTERNAL_WEBHOOK_SECRET ?? null,
      callback:
        env.INTERNAL_CALLBACK_URL && env.INTERNAL_WEBHOOK_SECRET
          ? { url: env.INTERNAL_CALLBACK_URL, secret: env.INTERNAL_WEBHOOK_SECRET }
          : null,
    }
    return config.secret
      ? { config, inbound: { enabled: true } }
      : { config, inbound: { enabled: false, reason: 'set INTERNAL_WEBHOOK_SECRET' } }
  },
  body: 'json',
  checkHead(head, config, now) {
    if (!config.secret) return { ok: false, reason: 'no INTERNAL_WEBHOOK_SECRET' }
    return checkStandardHead(
      {
        id: head.headers['webhook-id'],
        timestamp: head.headers['webhook-timestamp'],
        signature: head.headers['webhook-signature'],
      },
      now,
    )
  },
  verify(req, config, now) {
    if (!config.secret) return { ok: false, reason: 'no INTERNAL_WEBHOOK_SECRET' }
    return verifyStandardWebhook(
      config.secret,
      {
        id: req.headers['webhook-id'],
        timestamp: req.headers['webhook-timestamp'],
        signature: req.headers['webhook-signature'],
      },
      req.rawBody,
      now,
    )
  },
  parse(req, _config, now) {
    const json = parseJson(req.rawBody)
    if (!json.ok) return { kind: 'invalid', reason: json.reason }
    const parsed = InternalMessage.safeParse(json.value)
    if (!parsed.success) return { kind: 'invalid', reason: describeZodError(parsed.error) }
    // webhook-id is the dedupe key: the app keeps it across its retries.
    const webhookId = req.headers['webhook-id'] ?? `sha256:${req.rawHash}`
    return normalize(parsed.data, webhookId, req, now)
  },
  planReply(reply, config) {
    if (!config.callback)
      return { unavailable: 'set INTERNAL_CALLBACK_URL to answer on the internal chat' }
    const meta = reply.message.meta
    return {
      kind: INTERNAL_SEND,
      key: reply.key,
      subject: reply.subject,
      conversationId: reply.conversation.id,
      recipient: `${CHANNEL}:${reply.contact.externalId}`,
      automatic: reply.automatic,
      payload: {
        type: 'message',
        conversation_id: String(meta.conversationId ?? reply.conversation.externalId),
        user_id: reply.contact.externalId,
        text: reply.text,
        automatic: reply.automatic,
        in_reply_to: typeof meta.messageId === 'string' ? meta.messageId : null,
      },
    }
  },
  planHandoff(handoff, config) {
    if (!config.callback) return []
    return [
      {
        kind: INTERNAL_SEND,
        key: handoff.key,
        subject: handoff.subject,
        conversationId: handoff.conversation.id,
        payload: {
          type: 'handoff',
          conversation_id: String(
            handoff.message.meta.conversationId ?? handoff.conversation.externalId,
          ),
          user_id: handoff.contact.externalId,
          operator_id: handoff.operator,
          queue: handoff.queue?.id ?? null,
          queue_name: handoff.queue?.name ?? null,
          intent: handoff.intent,
          priority: handoff.priority,
          level: handoff.level,
          ticket: handoff.ticket,
          note: handoff.note,
        },
      },
    ]
  },
  executors(config, deps) {
    return config.callback ? internalExecutors(config.callback, deps) : new Map()
  },
})
