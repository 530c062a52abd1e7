import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { InboundRequest } from '../../src/contracts/channel.js'
import { sha256Hex } from '../../src/contracts/message.js'
import { hmac } from '../shared/hmac.js'
import { type ChatwootConfig, chatwoot, verifyChatwoot } from './index.js'

const raw = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name))
const NOW = new Date('2026-11-20T10:00:05Z')
const config: ChatwootConfig = {
  webhookSecret: 'secret',
  urlToken: null,
  api: null,
  mirrorInboxId: null,
}
const req = (
  body: Buffer,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
): InboundRequest => ({
  method: 'POST',
  rawBody: body,
  rawHash: sha256Hex(body),
  headers,
  query,
})

describe('chatwoot.parse', () => {
  it('normalizes an incoming message_created', async () => {
    const body = raw('message_created_incoming.json')
    const result = await chatwoot.parse(req(body, { 'x-chatwoot-delivery': 'abc' }), config, NOW)
    expect(result).toEqual({
      kind: 'accepted',
      deliveryId: 'abc',
      events: [],
      messages: [
        {
          channel: 'chatwoot',
          externalId: '1:9876',
          conversationExternalId: '1:312',
          contactExternalId: '1:40',
          direction: 'inbound',
          authorRole: 'customer',
          text: 'Hola, ¿a qué hora abren el sábado?',
          language: null,
          attachments: [],
          sentAt: '2026-11-20T10:00:00.000Z',
          receivedAt: '2026-11-20T10:00:05.000Z',
          rawHash: sha256Hex(body),
          contact: { name: 'Ana Pérez', email: 'ana@example.com' },
          triage: true,
          automated: false,
          meta: {
            accountId: 1,
            conversationId: 312,
            messageId: 9876,
            inboxId: 7,
            channelType: 'Channel::Api',
            // What the conversation had when Chatwoot sent it: the handoff skips what is true.
            conversationState: {
              labels: [],
              priority: null,
              teamId: null,
              teamName: null,
              assigneeId: null,
              at: NOW.getTime(),
            },
          },
        },
      ],
    })
  })

  it('dedupes on event, id and update time when Chatwoot sends no delivery id', async () => {
    const result = await chatwoot.parse(req(raw('message_created_incoming.json')), config, NOW)
    expect(result.kind === 'accepted' && result.deliveryId).toBe(
      'message_created:9876:2026-11-20T10:00:00.000Z',
    )
  })

  it('flags auto-replies Chatwoot detected in email inboxes', async () => {
    const payload = JSON.parse(raw('message_created_incoming.json').toString())
    payload.content_attributes = { email: { auto_reply: true } }
    const result = await chatwoot.parse(req(Buffer.from(JSON.stringify(payload))), config, NOW)
    expect(result.kind === 'accepted' && result.messages[0]!.automated).toBe(true)
  })

  it('treats website-widget contacts as visitors', async () => {
    const payload = JSON.parse(raw('message_created_incoming.json').toString())
    payload.conversation.channel = 'Channel::WebWidget'
    const result = await chatwoot.parse(req(Buffer.from(JSON.stringify(payload))), config, NOW)
    expect(result.kind === 'accepted' && result.messages[0]!.authorRole).toBe('visitor')
  })

  it('reads a change of labels or team as feedback on the hub’s decision', async () => {
    const body = raw('conversation_updated_labels.json')
    const result = await chatwoot.parse(req(body, { 'x-chatwoot-delivery': 'upd-1' }), config, NOW)
    expect(result).toEqual({
      kind: 'accepted',
      deliveryId: 'upd-1',
      messages: [],
      events: [
        {
          type: 'triage_feedback',
          channel: 'chatwoot',
          conversationExternalId: '1:312',
          hubConversationId: 88,
          labels: { added: ['legal'], removed: [] },
          team: { id: 4, name: 'legal' },
          actor: 'chatwoot: Paula Rojas',
          at: NOW.toISOString(),
        },
      ],
    })
    // Any other update (a status, an attribute) says nothing about the decision.
    const other = JSON.parse(body.toString())
    other.changed_attributes = [{ status: { previous_value: 'pending', current_value: 'open' } }]
    expect(await chatwoot.parse(req(Buffer.from(JSON.stringify(other))), config, NOW)).toEqual({
      kind: 'ignored',
      reason: 'conversation_updated without a label or team change',
    })
  })

  it('ignores events the hub does not use', async () => {
    const body = Buffer.from(JSON.stringify({ event: 'conversation_typing_on' }))
    expect(await chatwoot.parse(req(body), config, NOW)).toEqual({
      kind: 'ignored',
      reason: 'event conversation_typing_on',
    })
  })
})

describe('verifyChatwoot', () => {
  const body = raw('message_created_incoming.json')
  const ts = String(Math.floor(NOW.getTime() / 1000))
  const sign = (secret: string, timestamp = ts) =>
    `sha256=${hmac('sha256', secret, Buffer.concat([Buffer.from(`${timestamp}.`), body]))}`

  it('accepts a signature over "timestamp.body"', async () => {
    expect(
      verifyChatwoot(
        req(body, { 'x-chatwoot-signature': sign('secret'), 'x-chatwoot-timestamp': ts }),
        config,
        NOW,
      ),
    ).toEqual({ ok: true })
  })

  it('refuses a bad signature, a stale timestamp and a missing header', async () => {
    expect(
      verifyChatwoot(
        req(body, { 'x-chatwoot-signature': sign('other'), 'x-chatwoot-timestamp': ts }),
        config,
        NOW,
      ),
    ).toEqual({ ok: false, reason: 'bad signature' })
    const old = String(Number(ts) - 600)
    expect(
      verifyChatwoot(
        req(body, { 'x-chatwoot-signature': sign('secret', old), 'x-chatwoot-timestamp': old }),
        config,
        NOW,
      ),
    ).toEqual({ ok: false, reason: 'stale or missing timestamp' })
    expect(verifyChatwoot(req(body), config, NOW)).toEqual({
      ok: false,
      reason: 'missing signature',
    })
  })
})
