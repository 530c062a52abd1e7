import { createHash } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { auditLog, messages, triageDecisions } from '../../src/store/schema.js'
import { settled, testHub } from '../helpers/hub.js'
import { plainMail, postRawMail } from '../helpers/mail.js'
import { QUALITY_MAILBOX, QUALITY_STAFF, qualityMailSuite } from '../helpers/rules.js'
import { waitFor } from '../helpers/wait.js'

// Security review, high: anyone who could send mail to the hub could write to customers as
// staff, by answering a queue notification whose Message-ID they computed, and could make
// themselves "the latest customer" of a conversation with a future Date header.

const TOKEN = 'email-webhook-secret-0123456789'
const CUSTOMER = 'jorge.munoz@example.cl'
const ATTACKER = 'soporte-tienda@evil.example'
const IN_HOURS = '2026-11-18T15:00:00Z'

describe('answers to a queue notification come only from the queue', () => {
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
        EMAIL_FROM: 'Soporte Tienda <soporte@tienda.example>',
        RULES_DIR: outgoing.rules.dir,
        ADMIN_TOKEN: 'admin-token-0123456789abcdef',
      },
      { clock },
    )
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterEach(async () => {
    await t.close()
  })

  const post = (raw: Buffer) => postRawMail(base, TOKEN, raw)
  /** A customer's complaint; resolves with the Message-ID of the quality queue's notification. */
  const complaint = async (from = `Jorge Muñoz <${CUSTOMER}>`, id = 'reclamo-4471@example.cl') => {
    await post(
      plainMail({
        from,
        subject: 'Reclamo pedido 4471',
        messageId: id,
        body: 'El pedido 4471 llegó roto y nadie me responde. Pésima atención.',
      }),
    )
    const notice = await waitFor(() => outgoing.sink.to(QUALITY_MAILBOX).at(-1), {
      what: 'the queue notification',
    })
    return { id: notice.parsed.messageId!.replace(/[<>]/g, ''), subject: notice.parsed.subject! }
  }
  const answer = (from: string, notice: { id: string; subject: string }, extra = {}) =>
    plainMail({
      from,
      subject: `Re: ${notice.subject}`,
      messageId: `answer-${Math.random().toString(36).slice(2)}@x.example`,
      inReplyTo: notice.id,
      references: [notice.id],
      body: 'Estimado cliente, ingrese sus datos en https://pago-seguro.evil.example para el reembolso.',
      ...extra,
    })
  const refusals = () =>
    t.hub.db.select().from(auditLog).where(eq(auditLog.action, 'relay.refused')).all()

  it("mints notification Message-IDs nobody can compute from the message's number", async () => {
    const notice = await complaint()
    const customerMessage = t.hub.db.select().from(messages).all()[0]!
    const guessed = createHash('sha256')
      .update(`msg:${customerMessage.id}:queue:calidad`)
      .digest('hex')
      .slice(0, 32)
    expect(notice.id).not.toContain(guessed)
    expect(notice.id).toMatch(/^[0-9a-f]{32}\.centralita@tienda\.example$/)
  })

  it("refuses an outsider's answer: stored and listed, never sent, never triaged", async () => {
    const notice = await complaint()
    await post(answer(`Soporte <${ATTACKER}>`, notice))
    await waitFor(() => refusals().length === 1, { what: 'the refusal' })
    await settled(t.hub)
    expect(outgoing.sink.to(CUSTOMER)).toEqual([])
    const [refused] = refusals()
    expect(refused!.actor).toBe(ATTACKER)
    expect(JSON.parse(refused!.details).reason).toMatch(/not one of the queue's addresses/)
    // Only the customer's complaint was triaged.
    expect(t.hub.db.select().from(triageDecisions).all()).toHaveLength(1)
    const api = await fetch(`${base}/api/relays?outcome=refused`, {
      headers: { authorization: 'Bearer admin-token-0123456789abcdef' },
    })
    expect(((await api.json()) as { relays: unknown[] }).relays).toEqual([
      expect.objectContaining({ actor: ATTACKER, outcome: 'refused' }),
    ])
  })

  it("refuses the queue's own address when the receiving server found DKIM failing", async () => {
    const notice = await complaint()
    await post(
      answer(`Calidad <${QUALITY_MAILBOX}>`, notice, {
        headers: {
          'Authentication-Results':
            'mx.tienda.example; spf=pass smtp.mailfrom=evil.example; dkim=fail header.d=tienda.example',
        },
      }),
    )
    await waitFor(() => refusals().length === 1, { what: 'the refusal' })
    expect(JSON.parse(refusals()[0]!.details).reason).toMatch(/DKIM failed/)
    await settled(t.hub)
    expect(outgoing.sink.to(CUSTOMER)).toEqual([])
  })

  it('relays a contact of the queue to the customer the notification was about', async () => {
    const notice = await complaint()
    // Someone else writes into the customer's thread with a date in the future.
    await post(
      plainMail({
        from: `Jorge <${ATTACKER}>`,
        subject: 'Re: Reclamo pedido 4471',
        messageId: 'future@evil.example',
        inReplyTo: 'reclamo-4471@example.cl',
        references: ['reclamo-4471@example.cl'],
        date: 'Fri, 01 Jan 2027 10:00:00 -0300',
        body: 'Envíen la respuesta a esta dirección, por favor.',
      }),
    )
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 2, {
      what: 'the second message triaged',
    })
    const future = t.hub.db
      .select()
      .from(messages)
      .where(eq(messages.externalId, 'future@evil.example'))
      .get()!
    // Never written after it arrived.
    expect(future.sentAt).toBeLessThanOrEqual(future.receivedAt)
    await post(
      answer(`Paula <${QUALITY_STAFF}>`, notice, {
        body: 'Jorge, le devolvemos los $650 hoy mismo.',
      }),
    )
    const [relayed] = await waitFor(
      () => outgoing.sink.to(CUSTOMER).length > 0 && outgoing.sink.to(CUSTOMER),
      {
        what: 'the relayed answer',
      },
    )
    expect(relayed!.parsed.text?.trim()).toBe('Jorge, le devolvemos los $650 hoy mismo.')
    await settled(t.hub)
    expect(outgoing.sink.to(ATTACKER)).toEqual([])
  })

  it('sends an automatic answer to Reply-To only when the mail is authenticated', async () => {
    const question = (id: string, headers: Record<string, string>) =>
      plainMail({
        from: `Ana <ana@example.cl>`,
        subject: 'Horario',
        messageId: id,
        body: '¿Cuál es el horario de atención?',
        headers: { 'Reply-To': 'victima@third.example', ...headers },
      })
    await post(question('q-1@example.cl', {}))
    await waitFor(() => outgoing.sink.to('ana@example.cl').length === 1, {
      what: 'the answer to From',
    })
    expect(outgoing.sink.to('victima@third.example')).toEqual([])
    await post(
      question('q-2@example.cl', {
        'Authentication-Results': 'mx.tienda.example; dkim=pass header.d=example.cl; dmarc=pass',
      }),
    )
    await waitFor(() => outgoing.sink.to('victima@third.example').length === 1, {
      what: 'the answer to Reply-To of authenticated mail',
    })
  })
})
