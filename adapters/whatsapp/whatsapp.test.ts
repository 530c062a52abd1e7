import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { InboundRequest, ParseResult } from '../../src/contracts/channel.js'
import type { ChannelEvent, NormalizedMessage } from '../../src/contracts/message.js'
import { sha256Hex } from '../../src/contracts/message.js'
import { cloudReply } from './cloud-send.js'
import { verifyWhatsApp, type WhatsAppConfig, whatsapp } from './index.js'
import { normalizeWeb, skipWebMessage, type WebMessage } from './normalize-web.js'

const SECRET = 'meta-app-secret'
const config = whatsapp.configure({
  WHATSAPP_MODE: 'cloud',
  WHATSAPP_APP_SECRET: SECRET,
  WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
  WHATSAPP_GRAPH_URL: 'https://graph.facebook.com/v25.0',
  WHATSAPP_SESSION_DIR: 'data/whatsapp-session',
  WHATSAPP_CHROMIUM_PATH: '/usr/bin/chromium',
  WHATSAPP_CHROMIUM_ARGS: '',
}).config as WhatsAppConfig
const NOW = new Date('2026-11-20T12:00:00Z')

function request(body: string | Buffer, extra: Partial<InboundRequest> = {}): InboundRequest {
  const rawBody = Buffer.from(body)
  return { method: 'POST', rawBody, rawHash: sha256Hex(rawBody), headers: {}, query: {}, ...extra }
}
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')
async function parse(name: string): Promise<Extract<ParseResult, { kind: 'accepted' }>> {
  const result = await whatsapp.parse(request(fixture(name)), config, NOW)
  if (result.kind !== 'accepted') throw new Error(`${name}: ${result.kind}`)
  return result
}
const one = async (name: string): Promise<NormalizedMessage> => (await parse(name)).messages[0]!

describe('WhatsApp Cloud API: verification', () => {
  it('accepts X-Hub-Signature-256 over the raw body and refuses anything else', () => {
    const body = fixture('pywa_message_text')
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`
    expect(
      verifyWhatsApp(request(body, { headers: { 'x-hub-signature-256': signature } }), config),
    ).toEqual({
      ok: true,
    })
    const tampered = body.replace('Body Text', 'Body text')
    expect(
      verifyWhatsApp(request(tampered, { headers: { 'x-hub-signature-256': signature } }), config)
        .ok,
    ).toBe(false)
    expect(verifyWhatsApp(request(body), config).ok).toBe(false)
  })

  it('answers the subscription handshake with the challenge, and 403 for a wrong token', async () => {
    const get = (query: Record<string, string>) =>
      whatsapp.parse({ ...request(''), method: 'GET', query }, config, NOW)
    expect(
      await get({
        'hub.mode': 'subscribe',
        'hub.verify_token': 'verify-token-123',
        'hub.challenge': '1158201444',
      }),
    ).toEqual({ kind: 'handshake', status: 200, body: '1158201444' })
    expect(
      await get({
        'hub.mode': 'subscribe',
        'hub.verify_token': 'wrong-token-123',
        'hub.challenge': '1158201444',
      }),
    ).toMatchObject({ kind: 'handshake', status: 403 })
    expect(
      await get({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'verify-token-123' }),
    ).toMatchObject({
      status: 403,
    })
  })
})

describe('WhatsApp Cloud API: every message type', () => {
  it('text: the sender as a phone number, the conversation per business number and customer', async () => {
    const m = await one('pywa_message_text')
    expect(m).toMatchObject({
      channel: 'whatsapp',
      externalId: 'wamid.xyzxyz',
      conversationExternalId: '1122334455667:972987654321',
      contactExternalId: '972987654321',
      direction: 'inbound',
      authorRole: 'customer',
      text: 'Body Text',
      contact: { name: 'Test Name', phone: '+972987654321' },
      triage: true,
      sentAt: '2023-10-11T16:53:43.000Z',
    })
    expect(m.meta).toMatchObject({
      phoneNumberId: '1122334455667',
      waId: '972987654321',
      type: 'text',
    })
  })

  it.each([
    ['pywa_message_image', 'image', '', { externalId: '65463453', contentType: 'image/jpeg' }],
    ['pywa_message_video', 'video', 'caption', { contentType: 'video/mp4' }],
    [
      'pywa_message_document',
      'document',
      'caption',
      { name: 'filename.pdf', contentType: 'application/pdf' },
    ],
    ['pywa_message_audio', 'audio', '', { contentType: 'audio/ogg; codecs=opus' }],
    ['pywa_message_static_sticker', 'sticker', '', { contentType: 'image/webp' }],
  ])('%s: media id, type and caption', async (name, media, caption, attachment) => {
    const m = await one(name)
    expect(m.text).toBe(caption)
    expect(m.meta.media).toBe(media)
    expect(m.attachments[0]).toMatchObject(attachment)
  })

  it('voice notes are audio marked as voice', async () => {
    expect((await one('pywa_message_voice')).meta).toMatchObject({ media: 'audio', voice: true })
  })

  it('location, contacts, orders', async () => {
    const place = await one('pywa_message_chosen_location')
    expect(place.text).toContain('Facebook HQ')
    expect(place.text).toContain('(37.4611978, -122.2164385)')
    const shared = await one('pywa_message_contacts')
    expect(shared.text).toContain('Chandler Bing +1 555-555-5555')
    expect(shared.triage).toBe(false)
    const order = await one('pywa_message_order')
    expect(order.text).toContain('3 × HAMBURGER (30 ILS)')
    expect(order.triage).toBe(true)
  })

  it('interactive button and list replies, template quick replies', async () => {
    expect(await one('pywa_callback_button_button')).toMatchObject({
      text: 'title',
      meta: { replyId: 'callback_data' },
    })
    expect((await one('pywa_callback_selection_description')).text).toMatch(/^title — /)
    expect(await one('pywa_callback_button_quick_reply')).toMatchObject({
      text: 'title',
      threadRefs: ['wamid.xyzxyz=='],
    })
  })

  it('replies keep their context; forwarded messages are marked', async () => {
    expect((await one('pywa_message_reply')).threadRefs).toEqual(['wamid.xyzxyz=='])
    expect((await one('pywa_message_forwarded')).meta.forwarded).toBe(true)
  })

  it('reactions, system messages and unsupported types are stored, flagged and not triaged', async () => {
    expect(await one('pywa_message_reaction')).toMatchObject({
      triage: false,
      meta: { reactionTo: 'wamid.yzxyzx=' },
    })
    expect(await one('pywa_system_phone_number_change')).toMatchObject({
      authorRole: 'system',
      triage: false,
    })
    expect(await one('pywa_message_unsupported')).toMatchObject({
      triage: false,
      meta: { unsupported: expect.any(String) },
    })
    expect(await one('pywa_message_interactive_message_with_err')).toMatchObject({ triage: false })
  })

  it("messages sent from the WhatsApp Business app are the business's own, not triaged", async () => {
    expect(await one('pywa_outgoing_message_text')).toMatchObject({
      direction: 'outbound',
      authorRole: 'agent',
      triage: false,
      text: 'Test message',
    })
  })

  it('a deletion notice changes nothing', async () => {
    const result = await whatsapp.parse(
      request(fixture('pywa_deleted_message_revoke')),
      config,
      NOW,
    )
    expect(result.kind).toBe('ignored')
  })

  it('an item that does not fit is skipped without losing the rest of the batch', async () => {
    const payload = JSON.parse(fixture('text_horario_es'))
    const value = payload.entry[0].changes[0].value
    value.messages.unshift({ from: '56911112222', type: 'text' }) // no id, no timestamp
    const result = await whatsapp.parse(request(JSON.stringify(payload)), config, NOW)
    expect(result.kind).toBe('accepted')
    if (result.kind === 'accepted')
      expect(result.messages.map((m) => m.text)).toEqual(['hola a q hora abren el sabado?'])
  })
})

describe('WhatsApp Cloud API: statuses', () => {
  it.each([
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['played', 'read'],
  ])('%s becomes a %s delivery event, never a message', async (name, status) => {
    const result = await parse(`pywa_message_status_${name}`)
    expect(result.messages).toEqual([])
    expect(result.events).toEqual([
      expect.objectContaining({
        type: 'delivery_status',
        messageExternalId: 'wamid.xyzxyz',
        status,
      }),
    ])
  })

  it('failed carries its error; the callback data comes back as the effect key', async () => {
    const failed = (await parse('pywa_message_status_failed')).events[0] as Extract<
      ChannelEvent,
      { type: 'delivery_status' }
    >
    expect(failed).toMatchObject({
      status: 'failed',
      error: "130472 User's number is part of an experiment",
    })
    const tracked = (await parse('pywa_message_status_with_tracker')).events[0]
    expect(tracked).toMatchObject({ callbackKey: 'some data' })
  })
})

describe('WhatsApp Cloud API: replies within the 24-hour window', () => {
  const base = {
    key: 'msg:1:reply',
    subject: 'message:1',
    phoneNumberId: '110022003300440',
    to: '56911112222',
    text: 'Abrimos el sábado de 9:00 a 18:00.',
    replyTo: 'wamid.A',
    conversationId: 1,
    automatic: true,
  }
  it('plans a text reply quoting the message while the window is open', () => {
    const effect = cloudReply({ ...base, lastInboundAt: NOW.getTime() - 23 * 3_600_000, at: NOW })
    expect(effect).toMatchObject({
      kind: 'whatsapp.cloud.send',
      recipient: '+56911112222',
      payload: { to: '56911112222' },
    })
  })
  it('attempts no free-form message once it closed', () => {
    const effect = cloudReply({ ...base, lastInboundAt: NOW.getTime() - 25 * 3_600_000, at: NOW })
    expect(effect).toEqual({
      unavailable: expect.stringMatching(/24-hour WhatsApp window is closed/),
    })
  })
})

describe('WhatsApp Web messages', () => {
  const message = (over: Partial<WebMessage> = {}): WebMessage => ({
    id: { _serialized: 'false_56911112222@c.us_3EB0C767D26A1D0B8E4C', fromMe: false },
    from: '56911112222@c.us',
    to: '56229876543@c.us',
    body: 'hola, a q hora abren?',
    type: 'chat',
    timestamp: 1763650900,
    fromMe: false,
    isStatus: false,
    hasMedia: false,
    _data: { notifyName: 'Pedro' },
    ...over,
  })

  it('normalizes a chat message with the sender as a phone number', () => {
    const m = normalizeWeb(message(), 'a'.repeat(64), NOW)
    expect(m).toMatchObject({
      externalId: 'false_56911112222@c.us_3EB0C767D26A1D0B8E4C',
      conversationExternalId: 'web:56911112222@c.us',
      contact: { name: 'Pedro', phone: '+56911112222' },
      text: 'hola, a q hora abren?',
      triage: true,
      meta: { chatId: '56911112222@c.us' },
    })
  })

  it('never takes an @lid id for a phone number', () => {
    const m = normalizeWeb(message({ from: '180926785224706@lid' }), 'a'.repeat(64), NOW)
    expect(m.contact.phone).toBeUndefined()
    expect(m.contactExternalId).toBe('180926785224706@lid')
  })

  it('skips own messages, status broadcasts, groups and protocol events', () => {
    expect(skipWebMessage(message({ fromMe: true }))).toBe('own message')
    expect(skipWebMessage(message({ from: 'status@broadcast', isStatus: true }))).toBe(
      'status update',
    )
    expect(skipWebMessage(message({ from: '120363041234567890@g.us' }))).toBe('group chat')
    expect(skipWebMessage(message({ type: 'e2e_notification' }))).toMatch(/e2e_notification/)
    expect(skipWebMessage(message())).toBeNull()
  })

  it('media captions are the text; voice notes are audio', () => {
    const photo = normalizeWeb(
      message({
        type: 'image',
        body: 'así llegó la caja',
        hasMedia: true,
        _data: { mimetype: 'image/jpeg' },
      }),
      'a'.repeat(64),
      NOW,
    )
    expect(photo).toMatchObject({
      text: 'así llegó la caja',
      attachments: [{ contentType: 'image/jpeg' }],
    })
    expect(
      normalizeWeb(message({ type: 'ptt', body: '' }), 'a'.repeat(64), NOW).meta,
    ).toMatchObject({ voice: true })
  })
})
