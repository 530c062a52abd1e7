import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { escalations, outbox, slaEvents, tickets } from '../../src/store/schema.js'
import { settled as settledHub, tempDir } from '../helpers/hub.js'
import {
  deliver,
  payloads,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

const H = 3_600_000
// Wednesday 18 November 2026, 12:00 in Santiago.
const START = Date.parse('2026-11-18T15:00:00Z')

describe('SLA clock and L1 → L2 → L3 escalation, under an injected clock', () => {
  let up: Upstreams
  const dir = tempDir()
  let t: ReturnType<typeof supportHub>
  let send: ReturnType<typeof deliver>
  const clock = manualClock(new Date(START))

  beforeAll(async () => {
    up = await startUpstreams()
  })
  afterAll(async () => {
    await up.close()
    dir.cleanup()
  })
  beforeEach(() => {
    clock.set(new Date(START))
    up.sink.received.length = 0
    up.sms.requests.length = 0
    up.push.published.length = 0
  })
  afterEach(async () => {
    await t?.hub.stop()
  })

  const start = async (fresh: boolean) => {
    const sub = fresh ? tempDir() : dir
    t = supportHub(up, { clock, dir: sub.dir })
    send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`, clock)
    return t
  }
  const settled = () => settledHub(t.hub)
  const complaint = async (wamid: string) => {
    await send.whatsapp(
      payloads.whatsapp(
        wamid,
        '56911112222',
        'Pedro',
        'pésima atención, el pedido llegó roto y nadie me responde',
        clock.now(),
      ),
    )
    return waitFor(() => t.hub.db.select().from(escalations).get(), { what: 'the L1 escalation' })
  }
  /** Moves the injected clock and lets the SLA clock run as it would when its timer fires. */
  const at = async (ms: number) => {
    clock.set(new Date(ms))
    t.hub.sla.wake()
    await new Promise((r) => setTimeout(r, 50))
    await settled()
  }

  it('warns before the L1 deadline, escalates to L2 when it passes, and never fires twice', async () => {
    await start(false)
    const l1 = await complaint('wamid.SLA1')
    expect(l1).toMatchObject({ toLevel: 'L1', status: 'pendiente', slaDueAt: START + 4 * H })
    await settled()
    up.push.published.length = 0
    up.sink.received.length = 0

    // The SLA clock sleeps until the next moment something is due: the L1 warning at 15:00.
    expect((await t.hub.sla.runNow()).next).toBe(START + 3 * H)
    await at(START + 3 * H + 60_000)
    expect(up.push.published).toEqual([
      expect.objectContaining({
        topic: 'general',
        title: expect.stringMatching(/^\[L1\] SLA por vencer/),
      }),
    ])

    await at(START + 4 * H + 60_000)
    const rows = t.hub.db.select().from(escalations).all()
    expect(rows.map((e) => [e.fromLevel, e.toLevel, e.status])).toEqual([
      [null, 'L1', 'cerrado_sin_resolver'],
      ['L1', 'L2', 'pendiente'],
    ])
    expect(rows[1]).toMatchObject({
      reason: 'SLA L1 vencido',
      escalatedBy: 'centralita (SLA)',
      slaDueAt: START + 4 * H + 60_000 + 24 * H,
    })
    const ticket = t.hub.db.select().from(tickets).get()!
    expect(ticket).toMatchObject({ level: 'L2', queue: 'supervisor' })
    // The breach is emailed to the next level; L2's own alerts go out (push, email, SMS).
    expect(up.sink.to('supervision@empresa.example').map((m) => m.parsed.subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[L1\] SLA vencido: caso TK-2026-\d+ → L2/),
        expect.stringMatching(/^\[L2\] Caso/),
      ]),
    )
    expect(up.sms.requests).toEqual([
      expect.objectContaining({ kind: 'message', to: '+56900000002' }),
    ])

    // Running again (a second timer, a restart) fires nothing new.
    const effects = t.hub.db.select().from(outbox).all().length
    expect((await t.hub.sla.runNow()).fired).toBe(0)
    expect(t.hub.db.select().from(outbox).all().length).toBe(effects)
  })

  it('catches up after a restart: the L2 deadline passed while the hub was down', async () => {
    await start(false)
    const before = t.hub.db.select().from(escalations).all()
    expect(before.at(-1)).toMatchObject({ toLevel: 'L2', status: 'pendiente' })
    await t.hub.stop()

    clock.set(new Date(START + 40 * H))
    await start(false)
    await waitFor(
      () =>
        t.hub.db
          .select()
          .from(escalations)
          .all()
          .some((e) => e.toLevel === 'L3'),
      { what: 'the L3 escalation after the restart' },
    )
    await settled()
    const l3 = t.hub.db
      .select()
      .from(escalations)
      .all()
      .filter((e) => e.toLevel === 'L3')
    expect(l3).toHaveLength(1)
    expect(l3[0]).toMatchObject({ fromLevel: 'L2', reason: 'SLA L2 vencido' })
    // L3: push, email, SMS and a phone call to the legal owner; the breach emailed to legal.
    expect(up.sms.requests.map((r) => [r.kind, r.to]).sort()).toEqual([
      ['call', '+56900000003'],
      ['message', '+56900000003'],
    ])
    expect(up.sink.to('legal@empresa.example').length).toBeGreaterThanOrEqual(2)
    const events = t.hub.db.select().from(slaEvents).all()
    expect(events.filter((e) => e.kind === 'breach')).toHaveLength(2)
  })

  it('past L3, an expired case is reported to management, once', async () => {
    await start(false)
    await t.hub.stop()
    clock.set(new Date(START + 40 * H + 49 * H))
    await start(false)
    await waitFor(() => up.sink.to('gerencia@empresa.example').length > 0, {
      what: 'the report to management',
    })
    expect(up.sink.to('gerencia@empresa.example')[0]!.parsed.subject).toMatch(/^\[L3\] SLA vencido/)
    const pending = t.hub.db
      .select()
      .from(escalations)
      .all()
      .filter((e) => e.status === 'pendiente')
    expect(pending).toHaveLength(1)
    expect((await t.hub.sla.runNow()).fired).toBe(0)
  })

  it('a person answering in time takes the case: no escalation', async () => {
    await start(true)
    await send.chatwoot(
      payloads.chatwoot(9001, 777, 'pésima atención, el pedido llegó roto y nadie me responde', {
        id: 5,
        name: 'Ana',
      }),
      'cw-a',
    )
    const l1 = await waitFor(() => t.hub.db.select().from(escalations).get(), {
      what: 'the L1 escalation',
    })
    clock.set(new Date(START + 2 * H))
    const reply = {
      ...payloads.chatwoot(9002, 777, 'Hola Ana, lo revisamos ahora mismo.', {
        id: 5,
        name: 'Ana',
      }),
      message_type: 'outgoing',
      created_at: clock.now().toISOString(),
      sender: { id: 41, name: 'Paula', type: 'user' },
    }
    expect((await send.chatwoot(reply, 'cw-b')).status).toBe(200)
    const ticket = t.hub.db.select().from(tickets).get()!
    expect(ticket).toMatchObject({ firstResponseAt: START + 2 * H, firstResponseBy: 'Paula' })
    expect(
      t.hub.db.select().from(escalations).where(eq(escalations.id, l1.id)).get(),
    ).toMatchObject({
      status: 'en_proceso',
      receivedBy: 'Paula',
    })
    await at(START + 5 * H)
    expect(t.hub.db.select().from(escalations).all()).toHaveLength(1)
  })

  it('counts deadlines in business hours where the priority says so ("48 horas hábiles")', async () => {
    // Friday 20 November 2026, 20:00 in Santiago: the website chat closes at 21:00.
    clock.set(new Date('2026-11-20T23:00:00Z'))
    await start(true)
    await send.tawk(
      payloads.tawkChat('c-sug', 'sería bueno que abrieran los domingos, es una sugerencia', {
        email: 'x@example.cl',
      }),
      'e-sug',
    )
    const ticket = await waitFor(() => t.hub.db.select().from(tickets).get(), {
      what: 'the ticket',
    })
    expect(ticket.priority).toBe('baja')
    // 24 business hours: Fri 1 h + Sat 9 h + Mon 12 h + Tue 2 h → Tuesday 11:00 local.
    expect(new Date(ticket.firstResponseDueAt!).toISOString()).toBe('2026-11-24T14:00:00.000Z')
    // 48: … + Tue 12 h + Wed 12 h + Thu 2 h → Thursday 11:00 local.
    expect(new Date(ticket.resolutionDueAt!).toISOString()).toBe('2026-11-26T14:00:00.000Z')
  })
})
