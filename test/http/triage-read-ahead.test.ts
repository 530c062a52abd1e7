import request from 'supertest'
import { afterEach, expect, it } from 'vitest'
import { replyTools } from '../../src/actions/reply-tools.js'
import { manualClock } from '../../src/kit/clock.js'
import { openStore } from '../../src/store/open-store.js'
import { TRIAGE_PARTS } from '../../src/store/triage-parts.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { ownTriageWorker, testHub } from '../helpers/hub.js'
import { plainMail, postRawMail } from '../helpers/mail.js'
import { postgresForSuite } from '../helpers/postgres.js'
import { QUALITY_MAILBOX, QUALITY_STAFF, qualityMailSuite } from '../helpers/rules.js'
import { describeWithService } from '../helpers/services.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

// On PostgreSQL a triage slice reads its next messages together with their context (the
// conversation, the contact, the open ticket) in one statement. A message whose conversation
// or contact an earlier one of the same read changed must be read again: what a slice decides
// is what triaging the messages one after another decides, as on SQLite.

/**
 * [message, conversation, contact, text]: a person with three contacts (the same email), one
 * of them in two conversations, and another person. Ana's complaints come from three of her
 * contacts in a row; the other person's urgent message is followed by a thank-you in the same
 * conversation, whose case it made more urgent.
 */
const MESSAGES: [number, number, number, string][] = [
  [1, 501, 41, 'El pedido llegó roto y nadie me responde. Quiero una solución ya.'],
  [2, 502, 42, '¿A qué hora abren el sábado?'],
  [3, 505, 44, 'Otra vez me atendieron pésimo'],
  // Her third complaint within the window: a repeat complainer.
  [4, 504, 43, 'Otra vez me atendieron pésimo'],
  [5, 502, 42, 'Me cobraron dos veces el mismo pedido'],
  [6, 502, 42, 'Muchas gracias'],
  [7, 501, 41, 'Sigo esperando respuesta. Si no me devuelven el dinero iré a un abogado.'],
  [8, 503, 41, 'Además me cobraron dos veces el mismo pedido, quiero reclamar.'],
  [9, 501, 41, 'Es una vergüenza, presentaré una denuncia en el SERNAC.'],
]
const EMAILS: Record<number, string> = {
  41: 'ana@example.com',
  43: 'ana@example.com',
  44: 'ana@example.com',
}

/**
 * A store on PostgreSQL whose conversations are numbered eight apart: all in one part of the
 * triage queue (`triage-parts.ts`), so that one slice reads every message in turn.
 */
async function onePart(url: string) {
  const store = await openStore({ engine: 'postgres', url })
  await store.sql.run(`alter table conversations alter column id set increment by ${TRIAGE_PARTS}`)
  return store
}

describeWithService('postgres', 'a triage slice that reads its messages ahead', () => {
  const postgres = postgresForSuite()
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  /** The messages stored first, then triaged by one slice; what it decided and opened. */
  async function oneSlice(store?: Awaited<ReturnType<typeof openStore>>) {
    t = testHub({ CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot }, store ? { store } : {})
    const hub = t.hub
    await hub.worker.stop()
    for (const [id, conversation, contact, text] of MESSAGES) {
      const body = JSON.stringify(
        payloads.chatwoot(id, conversation, text, {
          id: contact,
          name: `Persona ${contact}`,
          ...(EMAILS[contact] ? { email: EMAILS[contact] } : {}),
        }),
      )
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `ahead-${id}` })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
    }
    const worker = ownTriageWorker(hub, { sliceMs: 60_000, pollMs: 60_000 })
    const decisions = () =>
      hub.sql.all<{ message: string; signals: string; explanation: string }>(
        `select m.external_id as message, d.intent, d.priority, d.level, d.queue, d.reply_kind,
                d.signals, d.explanation
           from triage_decisions d join messages m on m.id = d.message_id order by m.id`,
      )
    await waitFor(async () => (await decisions()).length === MESSAGES.length, {
      what: 'every message triaged',
    })
    // On PostgreSQL, the slice that finds nothing left starts after the one that decided
    // has committed.
    if (store)
      await waitFor(() => worker.slices() >= 2, { what: 'a slice that finds nothing left' })
    await worker.stop()
    return {
      slices: worker.slices(),
      // What was decided, and why (the reasons name the case a message was handed to).
      decisions: (await decisions()).map(({ explanation, ...decided }) => ({
        ...decided,
        reasons: JSON.parse(String(explanation)).reasons,
      })),
      tickets: await hub.sql.all<Record<string, unknown>>(
        `select c.external_id as conversation, m.external_id as opened_by, t.type, t.priority,
                t.level, t.status
           from tickets t join conversations c on c.id = t.conversation_id
           join messages m on m.id = t.message_id order by t.id`,
      ),
      escalations: await hub.sql.all<Record<string, unknown>>(
        `select t.number, e.from_level, e.to_level, e.reason from escalations e
           join tickets t on t.id = e.ticket_id order by e.id`,
      ),
    }
  }

  it('decides what triaging the messages one after another decides', async () => {
    const onSqlite = await oneSlice()
    await t?.close()
    t = null
    const url = postgres.database()
    const onPostgres = await oneSlice(await onePart(url))
    // One slice held them all (and one more found nothing left), and decided as SQLite did.
    expect(onPostgres.slices).toBe(2)
    expect(onPostgres).toEqual({ ...onSqlite, slices: 2 })
    // The conversation with three complaints has one case, which the later ones found open.
    const tickets = onPostgres.tickets.filter((ticket) => ticket.conversation === '1:501')
    expect(tickets).toHaveLength(1)
    expect(tickets[0]).toMatchObject({ opened_by: '1:1' })
    expect(onPostgres.escalations.length).toBeGreaterThan(0)
    // The thank-you was handed to its case at the priority the message before it raised.
    expect(onPostgres.decisions[5]?.reasons).toContainEqual(
      expect.stringMatching(/^part of open case .* at priority alta$/),
    )
    // Her complaints were counted across her contacts, decided in the same slice.
    expect(onPostgres.decisions[3]).toMatchObject({ message: '1:4', level: 'L2' })
    expect(JSON.parse(String(onPostgres.decisions[3]?.signals))).toContain('repeat_complainer')
  })
})

describeWithService('postgres', 'a relayed answer in a slice that reads ahead', () => {
  const postgres = postgresForSuite()
  const TOKEN = 'email-webhook-secret-0123456789'
  const CUSTOMER = 'jorge.munoz@example.cl'
  const outgoing = qualityMailSuite()
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  it("relays a person's answer and triages the customer's next message in the same slice", async () => {
    const { sink, rules } = outgoing
    const clock = manualClock('2026-11-18T15:00:00Z')
    const url = postgres.database()
    t = testHub(
      {
        EMAIL_WEBHOOK_SECRET: TOKEN,
        SMTP_URL: sink.url,
        EMAIL_FROM: 'Soporte Tienda <soporte@tienda.example>',
        RULES_DIR: rules.dir,
        DATABASE_URL: url,
      },
      { clock, store: await onePart(url) },
    )
    const hub = t.hub
    const base = `http://127.0.0.1:${(await hub.listen()).port}`
    const post = (raw: Buffer) => postRawMail(base, TOKEN, raw)
    await post(
      plainMail({
        from: `Jorge Muñoz <${CUSTOMER}>`,
        subject: 'Reclamo pedido 4471',
        messageId: 'reclamo-4471@example.cl',
        body: 'El pedido 4471 llegó roto y nadie me responde. Pésima atención.',
      }),
    )
    const notice = await waitFor(() => sink.to(QUALITY_MAILBOX).at(-1), {
      what: 'the queue notification',
    })
    const noticeId = notice.parsed.messageId!.replace(/[<>]/g, '')
    // The queue answers and the customer thanks: both stored before the worker looks.
    await hub.worker.stop()
    const reply = (from: string, subject: string, messageId: string, to: string, body: string) =>
      post(plainMail({ from, subject, messageId, inReplyTo: to, references: [to], body }))
    await reply(
      `Paula <${QUALITY_STAFF}>`,
      `Re: ${notice.parsed.subject}`,
      'respuesta-1@tienda.example',
      noticeId,
      'Jorge, le devolvemos los $650 hoy mismo.',
    )
    await reply(
      `Jorge Muñoz <${CUSTOMER}>`,
      'Re: Reclamo pedido 4471',
      'gracias-4471@example.cl',
      'reclamo-4471@example.cl',
      'Muchas gracias',
    )
    const worker = ownTriageWorker(hub, {
      clock,
      sliceMs: 60_000,
      pollMs: 60_000,
      onEffects: () => hub.dispatcher.wake(),
      tools: replyTools(hub.channels),
    })
    const thanks = () =>
      hub.sql.get<{ explanation: string }>(
        `select d.explanation from triage_decisions d join messages m on m.id = d.message_id
          where m.external_id = 'gracias-4471@example.cl'`,
      )
    const decided = await waitFor(thanks, { what: 'the thank-you triaged' })
    await waitFor(() => worker.slices() >= 2, { what: 'a slice that finds nothing left' })
    await worker.stop()
    // One slice triaged both (and one more found nothing left).
    expect(worker.slices()).toBe(2)
    // The thank-you, read after the relay wrote to its conversation, is part of the open case.
    const explanation = JSON.parse(decided.explanation)
    expect(explanation.outcome).toMatchObject({ branch: 'person' })
    expect(explanation.reasons).toContainEqual(expect.stringMatching(/^part of open case /))
    // And the answer went to the customer, once.
    const relayed = await waitFor(() => sink.to(CUSTOMER).length > 0 && sink.to(CUSTOMER), {
      what: 'the relayed answer',
    })
    expect(relayed.map((mail) => mail.parsed.text?.trim())).toEqual([
      'Jorge, le devolvemos los $650 hoy mismo.',
    ])
  })
})
