import { z } from 'zod'
import { defineAdapter } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { boundHttpClient, classifyHttpError } from '../../src/kit/http-client.js'
import { noInbound } from '../shared/outbound-only.js'

export const PUSH_SEND = 'push.send'

export type PushConfig = { url: string; format: 'ntfy' | 'slack'; token: string | null } | null

const Payload = z.object({
  topic: z.string().regex(/^[\w-]{1,64}$/),
  title: z.string().max(250),
  text: z.string().max(4000),
  urgent: z.boolean(),
})

/**
 * Push alerts to staff through a webhook: ntfy's JSON publishing (POST to the server root with
 * `{topic, title, message, priority, tags}`; the topic is the queue id) or a Slack-compatible
 * incoming webhook (`{text}`).
 */
export const push = defineAdapter({
  id: 'push',
  env: {
    NOTIFY_PUSH_URL: z.url({ protocol: /^https?$/ }).optional(),
    NOTIFY_PUSH_FORMAT: z.enum(['ntfy', 'slack']).default('ntfy'),
    NOTIFY_PUSH_TOKEN: z.string().min(1).optional(),
  },
  configure(env) {
    const config: PushConfig = env.NOTIFY_PUSH_URL
      ? {
          url: env.NOTIFY_PUSH_URL,
          format: env.NOTIFY_PUSH_FORMAT,
          token: env.NOTIFY_PUSH_TOKEN ?? null,
        }
      : null
    return { config, inbound: { enabled: false, reason: 'push only sends' } }
  },
  ...noInbound,
  notify(n, config) {
    if (!config || !n.via.includes('push')) return {}
    return {
      push: [
        {
          kind: PUSH_SEND,
          key: `${n.key}:push:${n.topic}`,
          subject: n.subject,
          payload: {
            topic: n.topic,
            title: n.title.slice(0, 250),
            text: n.text.slice(0, 4000),
            urgent: n.urgent,
          },
        },
      ],
    }
  },
  executors(config, deps) {
    if (!config) return new Map()
    const url = new URL(config.url)
    const http = boundHttpClient(
      url.origin,
      config.token ? { Authorization: `Bearer ${config.token}` } : {},
      deps.timeoutMs,
    )
    const path = `${url.pathname}${url.search}`
    return new Map<string, EffectExecutor>([
      [
        PUSH_SEND,
        async (run) => {
          const p = parsePayload(Payload, run)
          const body =
            config.format === 'slack'
              ? { text: `*${p.title}*\n${p.text}` }
              : {
                  topic: p.topic,
                  title: p.title,
                  message: p.text,
                  priority: p.urgent ? 5 : 3,
                  tags: p.urgent ? ['rotating_light'] : [],
                }
          try {
            await http.post(path, body)
          } catch (err) {
            throw classifyHttpError('push', err)
          }
          return { topic: p.topic }
        },
      ],
    ])
  },
})
