import request from 'supertest'
import { afterEach, expect, it } from 'vitest'
import { openStore } from '../../src/store/open-store.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { ownTriageWorker, testHub } from '../helpers/hub.js'
import { postgresForSuite } from '../helpers/postgres.js'
import { describeWithService } from '../helpers/services.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

// On PostgreSQL a triage slice reads its next messages together with their context (the
// conversation, the contact, the open ticket) in one statement. A message whose conversation
// or contact an earlier one of the same read changed must be read again: what a slice decides
// is what triaging the messages one after another decides, as on SQLite.

/** [message, conversation, contact, text]: two people, one of them in two conversations. */
const MESSAGES: [number, number, number, string][] = [
  [1, 501, 41, 'El pedido llegó roto y nadie me responde. Quiero una solución ya.'],
  [2, 502, 42, '¿A qué hora abren el sábado?'],
  [3, 501, 41, 'Sigo esperando respuesta. Si no me devuelven el dinero iré a un abogado.'],
  [4, 503, 41, 'Además me cobraron dos veces el mismo pedido, quiero reclamar.'],
  [5, 501, 41, 'Es una vergüenza, presentaré una denuncia en el SERNAC.'],
  [6, 502, 42, 'Muchas gracias'],
]

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
        payloads.chatwoot(id, conversation, text, { id: contact, name: `Persona ${contact}` }),
      )
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `ahead-${id}` })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
    }
    const worker = ownTriageWorker(hub, { sliceMs: 60_000, pollMs: 60_000 })
    const decisions = () =>
      hub.sql.all<Record<string, unknown>>(
        `select m.external_id as message, d.intent, d.priority, d.level, d.queue, d.reply_kind
           from triage_decisions d join messages m on m.id = d.message_id order by m.id`,
      )
    await waitFor(async () => (await decisions()).length === MESSAGES.length, {
      what: 'every message triaged',
    })
    await worker.stop()
    return {
      slices: worker.slices(),
      decisions: await decisions(),
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
    const onPostgres = await oneSlice(await openStore({ engine: 'postgres', url }))
    // One slice held them all, and decided as SQLite did.
    expect(onPostgres.slices).toBe(1)
    expect(onPostgres).toEqual({ ...onSqlite, slices: 1 })
    // The conversation with three complaints has one case, which the later ones found open.
    const tickets = onPostgres.tickets.filter((ticket) => ticket.conversation === '1:501')
    expect(tickets).toHaveLength(1)
    expect(tickets[0]).toMatchObject({ opened_by: '1:1' })
    expect(onPostgres.escalations.length).toBeGreaterThan(0)
  })
})
