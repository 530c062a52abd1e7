import nodemailer, { type Transporter } from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { messages, triageDecisions } from '../../src/store/schema.js'
import { type SmtpSink, startSmtpSink } from '../fakes/smtp-sink.js'
import { testHub } from '../helpers/hub.js'
import { freePort } from '../helpers/process.js'
import { QUALITY_MAILBOX, QUALITY_STAFF, rulesWithQualityMailbox } from '../helpers/rules.js'
import { waitFor } from '../helpers/wait.js'

const HUB = 'soporte@tienda.example'

describe('SMTP receiver: a real SMTP session from nodemailer to the hub', () => {
  let sink: SmtpSink
  let rules: ReturnType<typeof rulesWithQualityMailbox>
  let t: ReturnType<typeof testHub>
  let client: Transporter
  const clock = manualClock('2026-11-18T15:00:00Z')

  beforeAll(async () => {
    sink = await startSmtpSink()
    rules = rulesWithQualityMailbox()
    const port = await freePort()
    t = testHub(
      {
        SMTP_URL: sink.url,
        EMAIL_FROM: `Soporte Tienda <${HUB}>`,
        SMTP_LISTEN_PORT: String(port),
        SMTP_LISTEN_HOST: '127.0.0.1',
        MIME_BODY_LIMIT: '32kb',
        RULES_DIR: rules.dir,
      },
      { clock },
    )
    await t.hub.listen()
    client = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
  })
  afterAll(async () => {
    client.close()
    await t.close()
    await sink.close()
    rules.cleanup()
  })

  it('answers 250 only once the message is stored', async () => {
    const info = await client.sendMail({
      from: 'Camila Rojas <camila.rojas@example.cl>',
      to: HUB,
      subject: 'Horario',
      text: '¿Cuál es el horario de atención?',
      messageId: '<smtp-horario-1@example.cl>',
    })
    expect(info.response).toMatch(/^250/)
    // Stored when the sender got its 250: no waiting.
    const row = t.hub.db
      .select()
      .from(messages)
      .all()
      .find((m) => m.externalId === 'smtp-horario-1@example.cl')
    expect(row).toMatchObject({
      channel: 'email',
      direction: 'inbound',
      text: '¿Cuál es el horario de atención?',
    })
    const [answer] = await waitFor(
      () => sink.to('camila.rojas@example.cl').length > 0 && sink.received,
      {
        what: 'the answer',
      },
    )
    expect(answer!.parsed.subject).toBe('Re: Horario')
    expect(answer!.parsed.text).toMatch(/lunes a viernes/)
  })

  it('refuses recipients it does not receive for (it is not a relay)', async () => {
    const sending = client.sendMail({
      from: 'x@example.org',
      to: 'someone@elsewhere.example',
      subject: 'Hola',
      text: 'hola',
    })
    await expect(sending).rejects.toMatchObject({ responseCode: 550 })
  })

  it('accepts mail for a queue mailbox', async () => {
    const info = await client.sendMail({
      from: 'x@example.org',
      to: QUALITY_MAILBOX,
      subject: 'Sugerencia',
      text: 'Sería bueno que abrieran los domingos.',
      messageId: '<queue-mail-1@example.org>',
    })
    expect(info.response).toMatch(/^250/)
  })

  it('refuses a message over the size limit with 552', async () => {
    const sending = client.sendMail({
      from: 'x@example.org',
      to: HUB,
      subject: 'Grande',
      text: 'x'.repeat(40 * 1024),
    })
    await expect(sending).rejects.toMatchObject({ responseCode: 552 })
  })

  it("relays an admin's emailed answer to the customer who wrote by email", async () => {
    await client.sendMail({
      from: 'Jorge Muñoz <jorge.munoz@example.cl>',
      to: HUB,
      subject: 'Reclamo pedido 4471',
      text: 'El pedido 4471 llegó roto y nadie me responde. Pésima atención.',
      messageId: '<smtp-reclamo-1@example.cl>',
    })
    const notice = await waitFor(
      () => sink.to(QUALITY_MAILBOX).find((m) => m.parsed.text?.includes('El pedido 4471')),
      { what: 'the queue notification' },
    )
    await client.sendMail({
      from: `Paula <${QUALITY_STAFF}>`,
      to: HUB,
      subject: `Re: ${notice.parsed.subject}`,
      text: 'Jorge, hoy le enviamos uno nuevo.\n\n> El pedido 4471 llegó roto',
      inReplyTo: notice.parsed.messageId,
      references: [notice.parsed.messageId!],
      messageId: '<paula-smtp-1@tienda.example>',
    })
    const [relayed] = await waitFor(
      () => sink.to('jorge.munoz@example.cl').length > 0 && sink.to('jorge.munoz@example.cl'),
      { what: 'the relayed answer' },
    )
    expect(relayed!.parsed.text?.trim()).toBe('Jorge, hoy le enviamos uno nuevo.')
    expect(relayed!.parsed.inReplyTo).toBe('<smtp-reclamo-1@example.cl>')
    const decisions = t.hub.db.select().from(triageDecisions).all()
    expect(decisions.map((d) => d.intent)).not.toContain(undefined)
    expect(decisions.filter((d) => d.intent === 'complaint')).toHaveLength(1)
  })
})
