import { createHmac } from 'node:crypto'
import type { Clock } from '../../src/kit/clock.js'
import { chatwootHeaders, tawkHeaders } from './sign.js'

// Signed deliveries and channel payloads, light enough for a load client in its own process.

export const SECRETS = {
  tawk: 'tawk-webhook-secret',
  chatwoot: 'chatwoot-webhook-secret',
  whatsapp: 'meta-app-secret-123',
  email: 'email-webhook-secret-0123456789',
  internal: 'internal-chat-secret-0123456789',
  admin: 'admin-token-0123456789abcdef',
}
export const HUB_ADDRESS = 'soporte@tienda.example'

/** Signed deliveries to a running hub, as each channel sends them. */
export function deliver(base: string, clock: Pick<Clock, 'now'> = { now: () => new Date() }) {
  const seconds = () => String(Math.floor(clock.now().getTime() / 1000))
  const post = (channel: string, body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${base}/webhooks/${channel}`, { method: 'POST', headers, body })
  return {
    tawk: (payload: unknown, eventId: string) => {
      const body = JSON.stringify(payload)
      return post('tawkto', body, tawkHeaders(body, SECRETS.tawk, eventId))
    },
    chatwoot: (payload: unknown, delivery: string) => {
      const body = JSON.stringify(payload)
      return post(
        'chatwoot',
        body,
        chatwootHeaders(body, SECRETS.chatwoot, { delivery, timestamp: Number(seconds()) }),
      )
    },
    whatsapp: (payload: unknown) => {
      const body = JSON.stringify(payload)
      const signature = `sha256=${createHmac('sha256', SECRETS.whatsapp).update(body).digest('hex')}`
      return post('whatsapp', body, {
        'content-type': 'application/json',
        'x-hub-signature-256': signature,
      })
    },
    internal: (payload: unknown, id: string) => {
      const body = JSON.stringify(payload)
      const timestamp = seconds()
      const signature = createHmac('sha256', SECRETS.internal)
        .update(`${id}.${timestamp}.${body}`)
        .digest('base64')
      return post('internal', body, {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      })
    },
    email: (raw: string) =>
      post('email', raw, {
        'content-type': 'message/rfc822',
        authorization: `Bearer ${SECRETS.email}`,
      }),
    api: (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(`${base}/api${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${SECRETS.admin}`, 'content-type': 'application/json' },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      }),
  }
}

/** Payloads of each channel, shaped as the channel sends them. */
export const payloads = {
  tawkChat: (chatId: string, text: string, visitor: { name?: string; email?: string } = {}) => ({
    event: 'chat:start',
    chatId,
    time: '2026-11-18T14:59:00.000Z',
    message: { text, type: 'msg', sender: { type: 'visitor' } },
    visitor: {
      name: visitor.name ?? 'V1763477940000123',
      ...(visitor.email ? { email: visitor.email } : {}),
      city: 'Santiago',
      country: 'CL',
    },
    property: { id: '6731c0ffee5a1e0012ab34cd', name: 'Tienda Ejemplo' },
  }),
  tawkTicket: (
    id: string,
    subject: string,
    text: string,
    requester: { name: string; email: string },
  ) => ({
    event: 'ticket:create',
    time: '2026-11-18T14:59:00.000Z',
    property: { id: '6731c0ffee5a1e0012ab34cd', name: 'Tienda Ejemplo' },
    requester,
    ticket: { id, humanId: 7, subject, message: text },
  }),
  chatwoot: (
    id: number,
    conversationId: number,
    text: string,
    contact: { id: number; name: string; email?: string },
    /** The conversation's labels, priority, team and agent, as Chatwoot sends them. */
    state?: {
      labels: string[]
      priority: string | null
      team: { id: number; name: string } | null
      assignee: { id: number } | null
    },
  ) => ({
    event: 'message_created',
    id,
    content: text,
    message_type: 'incoming',
    private: false,
    created_at: '2026-11-18T14:59:30.000Z',
    account: { id: 1, name: 'Tienda' },
    inbox: { id: 3, name: 'Web' },
    conversation: {
      id: conversationId,
      inbox_id: 3,
      channel: 'Channel::WebWidget',
      status: 'open',
      meta: {
        sender: { id: contact.id, name: contact.name, email: contact.email ?? null },
        ...(state ? { team: state.team, assignee: state.assignee } : {}),
      },
      ...(state ? { labels: state.labels, priority: state.priority } : {}),
    },
    sender: { id: contact.id, name: contact.name, email: contact.email ?? null },
  }),
  whatsapp: (wamid: string, from: string, name: string, text: string, at: Date) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1029384756102938',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '56229876543', phone_number_id: '110022003300440' },
              contacts: [{ profile: { name }, wa_id: from }],
              messages: [
                {
                  from,
                  id: wamid,
                  timestamp: String(Math.floor(at.getTime() / 1000) - 30),
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
          },
        ],
      },
    ],
  }),
  internal: (
    messageId: string,
    user: { id: string; role: 'cliente' | 'operador'; name: string },
    text: string,
    operator?: string,
  ) => ({
    message_id: messageId,
    user,
    ...(operator ? { assigned_operator_id: operator } : {}),
    text,
  }),
  email: (messageId: string, from: string, subject: string, text: string) =>
    [
      `From: ${from}`,
      `To: Soporte Tienda <${HUB_ADDRESS}>`,
      `Subject: ${subject}`,
      'Date: Wed, 18 Nov 2026 11:59:00 -0300',
      `Message-ID: <${messageId}>`,
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
    ].join('\r\n'),
}
