import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { auditLog, messages, outbox, triageDecisions } from '../../src/store/schema.js'
import { testHub } from '../helpers/hub.js'
import { plainMail } from '../helpers/mail.js'
import { QUALITY_MAILBOX, QUALITY_STAFF, qualityMailSuite } from '../helpers/rules.js'
import { waitFor } from '../helpers/wait.js'

const TOKEN = 'email-webhook-secret-0123456789'
const HUB = 'soporte@tienda.example'
// A Wednesday, 12:00 in Santiago.
const IN_HOURS = '2026-11-18T15:00:00Z'
const own = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../adapters/email/fixtures', name))
const peer = (name: string) =>
  readFileSync(join(import.meta.dirname, '../fixtures/email/chatwoot', name))

const mail = plainMail

describe('POST /webhooks/email (raw MIME) and email replies', () => {
  const outgoing = qualityMailSuite()
  let t: ReturnType<typeof testHub>
  let base: string
  const clock = manualClock(IN_HOURS)

  beforeEach(async () => {
    clock.set(IN_HOURS)
    outgoing.sink.received.length = 0
    t = testHub(
      {
        EMAIL_WEBHOOK_SECRET: TOKEN,
        SMTP_URL: outgoing.sink.url,
        EMAIL_FROM: `Soporte Tienda <${HUB}>`,
        MIME_BODY_LIMIT: '64kb',
        RULES_DIR: outgoing.rules.dir,
      },
      { clock },
    )
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (raw: Buffer, token: string | null = TOKEN) =>
    fetch(`${base}/webhooks/email`, {
      method: 'POST',
      headers: {
        'content-type': 'message/rfc822',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: raw,
    })
  const rows = <T extends typeof messages | typeof triageDecisions | typeof outbox>(table: T) =>
    t.hub.db.select().from(table).all()

  it('answers an FAQ in the same thread: Re: subject, In-Reply-To, References, Auto-Submitted', async () => {
    const res = await post(own('consulta_envio.eml'))
    expect(res.status).toBe(200)
    const [answer] = await waitFor(
      () => outgoing.sink.to('camila.rojas@example.cl').length > 0 && outgoing.sink.received,
      {
        what: 'the FAQ answer',
      },
    )
    expect(answer!.parsed.subject).toBe('Re: Consulta envío')
    expect(answer!.parsed.from?.address).toBe(HUB)
    expect(answer!.parsed.inReplyTo).toBe('<CAF3kq1x7Yp2@mail.example.cl>')
    expect(answer!.parsed.references).toContain('<CAF3kq1x7Yp2@mail.example.cl>')
    expect(answer!.header('auto-submitted')).toBe('auto-replied')
    expect(answer!.parsed.text).toMatch(/^Hola Camila/)
    expect(answer!.parsed.text).toMatch(/regiones/)
  })

  it("files the customer's answer in the same conversation and triages only the new text", async () => {
    await post(own('consulta_envio.eml'))
    const [answer] = await waitFor(
      () => outgoing.sink.received.length > 0 && outgoing.sink.received,
      {
        what: 'the answer',
      },
    )
    const hubId = answer!.parsed.messageId!.replace(/[<>]/g, '')
    const reply = mail({
      from: 'Camila Rojas <camila.rojas@example.cl>',
      subject: 'Re: Consulta envío',
      messageId: 'CAF3kq1xReply@mail.example.cl',
      inReplyTo: hubId,
      references: ['CAF3kq1x7Yp2@mail.example.cl', hubId],
      body: [
        'El producto llegó roto y nadie me responde, pésimo servicio.',
        '',
        'El mié, 18 nov 2026 a las 12:00, Soporte Tienda <soporte@tienda.example> escribió:',
        '> Hola Camila:',
        '> Despachamos productos a todo Chile.',
      ].join('\r\n'),
    })
    expect((await post(reply)).status).toBe(200)
    await waitFor(() => rows(triageDecisions).length === 2, { what: 'the reply triaged' })
    const stored = rows(messages)
    expect(new Set(stored.map((m) => m.conversationId)).size).toBe(1)
    const inbound = stored.filter((m) => m.direction === 'inbound')
    expect(inbound.at(-1)!.text).toBe(
      'El producto llegó roto y nadie me responde, pésimo servicio.',
    )
    const decision = rows(triageDecisions).at(-1)!
    expect(decision.intent).toBe('complaint')
  })

  it("hands a complaint to the quality mailbox and relays the admin's answer to the customer", async () => {
    const complaint = mail({
      from: 'Jorge Muñoz <jorge.munoz@example.cl>',
      subject: 'Reclamo pedido 4471',
      messageId: '20261120120244.4471@correo.example.cl',
      body: 'El pedido 4471 llegó roto y nadie me responde. Pésima atención.',
    })
    expect((await post(complaint)).status).toBe(200)
    const [notice] = await waitFor(
      () => outgoing.sink.to(QUALITY_MAILBOX).length > 0 && outgoing.sink.to(QUALITY_MAILBOX),
      {
        what: 'the queue notification',
      },
    )
    expect(notice!.parsed.subject).toMatch(/reclamo/)
    expect(notice!.parsed.text).toMatch(/Prioridad|prioridad/)
    expect(notice!.parsed.text).toContain('El pedido 4471 llegó roto')
    expect(notice!.header('auto-submitted')).toBeUndefined()
    expect(outgoing.sink.to('jorge.munoz@example.cl')).toHaveLength(0) // complaints get no automatic answer

    const noticeId = notice!.parsed.messageId!.replace(/[<>]/g, '')
    const adminAnswer = mail({
      from: `Paula Calidad <${QUALITY_STAFF}>`,
      subject: `Re: ${notice!.parsed.subject}`,
      messageId: 'paula-answer-1@tienda.example',
      inReplyTo: noticeId,
      references: [noticeId],
      body: [
        'Jorge, le devolvemos los $650 hoy mismo. Disculpe las molestias.',
        '',
        'El mié, 18 nov 2026 a las 12:01, Soporte Tienda <soporte@tienda.example> escribió:',
        '> Reclamo · prioridad alta',
      ].join('\r\n'),
    })
    expect((await post(adminAnswer)).status).toBe(200)
    const [relayed] = await waitFor(
      () =>
        outgoing.sink.to('jorge.munoz@example.cl').length > 0 &&
        outgoing.sink.to('jorge.munoz@example.cl'),
      { what: 'the relayed answer' },
    )
    expect(relayed!.parsed.text?.trim()).toBe(
      'Jorge, le devolvemos los $650 hoy mismo. Disculpe las molestias.',
    )
    expect(relayed!.parsed.subject).toBe('Re: Reclamo pedido 4471')
    expect(relayed!.parsed.inReplyTo).toBe('<20261120120244.4471@correo.example.cl>')
    expect(relayed!.header('auto-submitted')).toBeUndefined()
    // The admin's message is theirs, not a new customer message: no decision, an audit entry.
    expect(rows(triageDecisions)).toHaveLength(1)
    const adminRow = rows(messages).find((m) => m.externalId === 'paula-answer-1@tienda.example')!
    expect(adminRow.authorRole).toBe('agent')
    const audit = t.hub.db.select().from(auditLog).where(eq(auditLog.action, 'relay.relayed')).all()
    expect(audit).toHaveLength(1)
    expect(audit[0]!.actor).toBe('paula@tienda.example')
  })

  it("relays the admin's closing with the answer, without the quote or the signature block", async () => {
    const complaint = mail({
      from: 'Rosa Vidal <rosa.vidal@example.cl>',
      subject: 'Reclamo pedido 5120',
      messageId: '20261120121500.5120@correo.example.cl',
      body: 'El pedido 5120 llegó incompleto y nadie me responde. Pésima atención.',
    })
    expect((await post(complaint)).status).toBe(200)
    const notice = (
      await waitFor(
        () => outgoing.sink.to(QUALITY_MAILBOX).length > 0 && outgoing.sink.to(QUALITY_MAILBOX),
        {
          what: 'the queue notification',
        },
      )
    ).at(-1)!
    const noticeId = notice.parsed.messageId!.replace(/[<>]/g, '')
    const adminAnswer = mail({
      from: `Paula Calidad <${QUALITY_STAFF}>`,
      subject: `Re: ${notice.parsed.subject}`,
      messageId: 'paula-answer-2@tienda.example',
      inReplyTo: noticeId,
      references: [noticeId],
      body: [
        'Rosa, le enviamos hoy lo que faltaba.',
        '',
        'Saludos,',
        'Paula',
        '',
        '-- ',
        'Paula Soto · Calidad · Tienda Ejemplo',
        '+56 2 2987 6543',
        '',
        'El mié, 18 nov 2026 a las 12:16, Soporte Tienda <soporte@tienda.example> escribió:',
        '> Reclamo · prioridad media',
      ].join('\r\n'),
    })
    expect((await post(adminAnswer)).status).toBe(200)
    const [relayed] = await waitFor(
      () =>
        outgoing.sink.to('rosa.vidal@example.cl').length > 0 &&
        outgoing.sink.to('rosa.vidal@example.cl'),
      { what: 'the relayed answer' },
    )
    expect(relayed!.parsed.text?.trim()).toBe(
      'Rosa, le enviamos hoy lo que faltaba.\n\nSaludos,\nPaula',
    )
    // Triage never reads an agent's answer; the customer's words are stored without closings.
    const adminRow = rows(messages).find((m) => m.externalId === 'paula-answer-2@tienda.example')!
    expect(adminRow.text).toBe('Rosa, le enviamos hoy lo que faltaba.')
  })

  it('stores automatic mail in its thread and never answers or routes it', async () => {
    for (const name of [
      'auto_reply.eml',
      'auto_reply_with_auto_submitted.eml',
      'bounced_gmail.eml',
      'bounced_with_no_from.eml',
    ]) {
      expect((await post(peer(name))).status, name).toBe(200)
    }
    expect((await post(own('fuera_de_oficina.eml'))).status).toBe(200)
    const stored = rows(messages)
    // The two auto-reply fixtures share one Message-ID: the second is a duplicate.
    expect(stored).toHaveLength(4)
    expect(stored.every((m) => m.automated && !m.triage)).toBe(true)
    await new Promise((r) => setTimeout(r, 200))
    expect(rows(triageDecisions)).toHaveLength(0)
    expect(rows(outbox)).toHaveLength(0)
  })

  it('ignores mail from its own address (no loop with itself)', async () => {
    const looped = mail({
      from: `Soporte Tienda <${HUB}>`,
      subject: 'Re: x',
      messageId: 'own-1@tienda.example',
      body: '¿Cuál es el horario?',
    })
    const res = await post(looped)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ outcome: 'ignored' })
    expect(rows(messages)).toHaveLength(0)
  })

  it('caps automatic answers per recipient across conversations', async () => {
    for (let i = 0; i < 7; i++) {
      const question = mail({
        from: 'Luis <luis@example.org>',
        subject: `Pregunta ${i}`,
        messageId: `luis-${i}@example.org`,
        body: '¿Cuál es el horario de atención?',
      })
      expect((await post(question)).status).toBe(200)
    }
    await waitFor(() => rows(triageDecisions).length === 7, { what: 'seven decisions' })
    await waitFor(() => rows(outbox).every((e) => e.status === 'done'), {
      what: 'the answers sent',
    })
    expect(outgoing.sink.to('luis@example.org')).toHaveLength(5)
    const reasons = rows(triageDecisions).map((d) => JSON.parse(d.explanation).reasons.join(' | '))
    expect(reasons.filter((r) => /already went to this recipient/.test(r))).toHaveLength(2)
  })

  it('refuses without the shared secret, rejects what is not mail and what is too large', async () => {
    expect((await post(own('consulta_envio.eml'), null)).status).toBe(401)
    expect((await post(own('consulta_envio.eml'), 'wrong-token-wrong-token')).status).toBe(401)
    const garbage = await post(Buffer.from('\u0000\u0001 this is not an email'))
    expect(garbage.status).toBe(400)
    expect(((await garbage.json()) as { reason: string }).reason).toMatch(/not an email|headers/)
    const huge = mail({
      from: 'a@b.example',
      subject: 'big',
      messageId: 'big@b.example',
      body: 'x'.repeat(70 * 1024),
    })
    expect((await post(huge)).status).toBe(413)
    expect(rows(messages)).toHaveLength(0)
  })
})
