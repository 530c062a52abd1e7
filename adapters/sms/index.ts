import { z } from 'zod'
import { defineAdapter } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { boundHttpClient, classifyHttpError } from '../../src/kit/http-client.js'
import { noInbound } from '../shared/outbound-only.js'

export const SMS_SEND = 'sms.send'
export const SMS_CALL = 'sms.call'

export type SmsConfig = {
  baseUrl: string
  accountSid: string
  authToken: string
  from: string
} | null

const Phone = z.string().regex(/^\+\d{6,15}$/)
const Message = z.object({ to: Phone, body: z.string().min(1).max(1600) })
const Call = z.object({ to: Phone, say: z.string().min(1).max(3000) })

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * SMS and phone calls through a Twilio-compatible REST API: `POST
 * /2010-04-01/Accounts/{sid}/Messages.json` (To, From, Body) and `…/Calls.json` (To, From,
 * Twiml with a spoken message), form-encoded, with HTTP basic auth (sid, token).
 */
export const sms = defineAdapter({
  id: 'sms',
  env: {
    SMS_PROVIDER_URL: z.url({ protocol: /^https?$/ }).optional(),
    SMS_ACCOUNT_SID: z
      .string()
      .regex(/^[\w-]{4,64}$/, 'expected the account sid')
      .optional(),
    SMS_AUTH_TOKEN: z.string().min(8).optional(),
    SMS_FROM: Phone.optional(),
  },
  configure(env) {
    const config: SmsConfig =
      env.SMS_PROVIDER_URL && env.SMS_ACCOUNT_SID && env.SMS_AUTH_TOKEN && env.SMS_FROM
        ? {
            baseUrl: env.SMS_PROVIDER_URL.replace(/\/+$/, ''),
            accountSid: env.SMS_ACCOUNT_SID,
            authToken: env.SMS_AUTH_TOKEN,
            from: env.SMS_FROM,
          }
        : null
    return { config, inbound: { enabled: false, reason: 'SMS only sends' } }
  },
  ...noInbound,
  notify(n, config) {
    if (!config) return {}
    const effect = (kind: string, to: string, payload: Record<string, unknown>) => ({
      kind,
      key: `${n.key}:${kind}:${to}`,
      subject: n.subject,
      payload,
    })
    const out: { sms?: ReturnType<typeof effect>[]; call?: ReturnType<typeof effect>[] } = {}
    if (n.via.includes('sms'))
      out.sms = n.phones.map((to) =>
        effect(SMS_SEND, to, { to, body: `${n.title}\n${n.text}`.slice(0, 1600) }),
      )
    if (n.via.includes('call'))
      out.call = n.phones.map((to) =>
        effect(SMS_CALL, to, { to, say: `${n.title}. ${n.text}`.slice(0, 3000) }),
      )
    return out
  },
  executors(config, deps) {
    if (!config) return new Map()
    const http = boundHttpClient(
      config.baseUrl,
      {
        Authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`,
      },
      deps.timeoutMs,
    )
    const account = `/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}`
    const post = async (path: string, form: Record<string, string>, what: string) => {
      try {
        const { data } = await http.post<{ sid?: string }>(
          `${account}${path}`,
          new URLSearchParams(form).toString(),
          {
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          },
        )
        return { sid: data?.sid ?? null }
      } catch (err) {
        throw classifyHttpError(`sms: ${what}`, err)
      }
    }
    return new Map<string, EffectExecutor>([
      [
        SMS_SEND,
        async (run) => {
          const p = parsePayload(Message, run)
          return post(
            '/Messages.json',
            { To: p.to, From: config.from, Body: p.body },
            'send message',
          )
        },
      ],
      [
        SMS_CALL,
        async (run) => {
          const p = parsePayload(Call, run)
          const twiml = `<Response><Say language="es-MX">${xml(p.say)}</Say></Response>`
          return post('/Calls.json', { To: p.to, From: config.from, Twiml: twiml }, 'place call')
        },
      ],
    ])
  },
})
