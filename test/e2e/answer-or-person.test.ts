import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { messages, tickets, triageDecisions } from '../../src/store/schema.js'
import { settled } from '../helpers/hub.js'
import {
  deliver,
  payloads,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

// Wednesday 18 November 2026, 12:00 in Santiago: WhatsApp is in business hours.
const IN_HOURS = '2026-11-18T15:00:00Z'
// Sunday 22 November 2026, 23:00 in Santiago: WhatsApp is closed until Monday 9:00.
const SUNDAY_NIGHT = '2026-11-23T02:00:00Z'

// What a customer on WhatsApp gets back, whatever they write: an answer, or a person.
describe('every WhatsApp message ends with an answer or a person', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let send: ReturnType<typeof deliver>
  const clock = manualClock(IN_HOURS)
  let next = 0

  beforeAll(async () => {
    up = await startUpstreams()
  })
  afterAll(async () => {
    await up.close()
  })
  beforeEach(async () => {
    clock.set(IN_HOURS)
    up.graph.sent.length = 0
    t = supportHub(up, { clock })
    send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
  })
  afterEach(async () => {
    await t.close()
  })

  /** The customer writes; resolves with the decision once its effects ran. */
  const says = async (from: string, text: string) => {
    const before = t.hub.db.select().from(triageDecisions).all().length
    const wamid = `wamid.acts-${++next}`
    const res = await send.whatsapp(payloads.whatsapp(wamid, from, 'Carla', text, clock.now()))
    expect(res.status).toBe(200)
    await waitFor(() => t.hub.db.select().from(triageDecisions).all().length > before, {
      what: `the decision on "${text}"`,
    })
    await settled(t.hub)
    const decision = t.hub.db.select().from(triageDecisions).all().at(-1)!
    return { ...decision, explanation: JSON.parse(decision.explanation) }
  }
  const sentTo = (phone: string) => up.graph.sent.filter((m) => m.to === phone).map((m) => m.text)
  const ticketCount = () => t.hub.db.select().from(tickets).all().length

  it('a greeting gets the welcome once a day; greeting again, a person takes it', async () => {
    const first = await says('56911110001', 'hola')
    expect(first.explanation.outcome.branch).toBe('answer')
    expect(sentTo('56911110001')).toEqual([expect.stringMatching(/^¡Hola Carla! Soy el asistente/)])
    expect(ticketCount()).toBe(0)

    clock.advance(10 * 60_000)
    const again = await says('56911110001', 'Buenas tardes')
    expect(again.explanation.outcome).toMatchObject({
      branch: 'person',
      reason: expect.stringMatching(/welcome already went/),
    })
    expect(again).toMatchObject({ queue: 'general', needsHuman: true })
    expect(sentTo('56911110001')).toHaveLength(1)
    expect(t.hub.db.select().from(tickets).all()).toEqual([
      expect.objectContaining({ queue: 'general', type: 'consulta', status: 'abierto' }),
    ])
  })

  it('thanks after an answer closes the exchange: stored, no ticket, nothing sent', async () => {
    const question = await says('56911110002', '¿Aceptan tarjeta de crédito?')
    expect(question.explanation.outcome.branch).toBe('answer')
    expect(sentTo('56911110002')).toEqual([expect.stringMatching(/tarjeta/i)])
    clock.advance(2 * 60_000)
    const thanks = await says('56911110002', 'gracias!!')
    expect(thanks.explanation.outcome.branch).toBe('closed')
    expect(sentTo('56911110002')).toHaveLength(1)
    expect(ticketCount()).toBe(0)
    const stored = t.hub.db.select().from(messages).all()
    expect(stored.map((m) => m.text)).toContain('gracias!!')
  })

  it('an "ok" that closes nothing is read by a person', async () => {
    const ok = await says('56911110003', 'ok')
    expect(ok.explanation.outcome.branch).toBe('person')
    expect(ok.queue).toBe('general')
    expect(ticketCount()).toBe(1)
  })

  it('asking for a person hands over at once and says when they will answer', async () => {
    const asked = await says('56911110004', 'necesito hablar con alguien')
    expect(asked.explanation.outcome.branch).toBe('person')
    expect(asked.queue).toBe('general')
    const [ack] = sentTo('56911110004')
    expect(ack).toMatch(/te comunicamos con una persona del equipo \(Administración general\)/)
    expect(ack).toMatch(/TK-2026-\d{6}/)
    expect(ack).toMatch(/Te responderá en un plazo de 4 horas\.$/)
  })

  it('outside business hours the handover says when the team is back', async () => {
    clock.set(SUNDAY_NIGHT)
    await says('56911110005', 'I want to talk to a human please')
    const [ack] = sentTo('56911110005')
    expect(ack).toMatch(/^Hi Carla, we are passing you to someone from the team/)
    expect(ack).toMatch(/They will reply tomorrow at 9:00\.$/)
  })

  it('a payment problem is never answered, and goes to finance', async () => {
    const problem = await says('56911110006', '¿Por qué me cobraron dos veces con la tarjeta?')
    expect(problem.explanation.outcome.branch).toBe('person')
    expect(problem.queue).toBe('finanzas')
    expect(sentTo('56911110006')).toEqual([])
  })
})
