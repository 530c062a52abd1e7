import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { triageDecisions } from '../../src/store/schema.js'
import type { TriageWorkerDeps } from '../../src/worker/triage-worker.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { ownTriageWorker, testHub } from '../helpers/hub.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

// Webhook commits and triage slices share the event loop. Deliveries waiting for their
// commit (their senders for an acknowledgement) go before a triage slice, but only for a
// while: under a flood of them, triage still gets its turns.
describe('triage and waiting acknowledgements', () => {
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  /** A hub whose own triage worker is stopped, to run one made by the test. */
  const hubWithoutWorker = async () => {
    t = testHub({ CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot })
    const hub = t.hub
    await hub.worker.stop()
    const send = async (id: number) => {
      const body = JSON.stringify(
        payloads.chatwoot(id, 900 + id, '¿A qué hora abren el sábado?', { id, name: 'Ana' }),
      )
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `yield-${id}` })
      const res = await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)
      expect(res.status).toBe(200)
    }
    const decided = () => hub.db.select().from(triageDecisions).all().length
    const worker = (options: Partial<TriageWorkerDeps>) => ownTriageWorker(hub, options)
    return { hub, send, decided, worker }
  }

  it('waits while acknowledgements wait, and still triages under a flood of them', async () => {
    const { send, decided, worker } = await hubWithoutWorker()
    for (const id of [1, 2, 3]) await send(id)
    let waiting = true
    const patient = worker({ acknowledgementsWaiting: () => waiting, yieldMs: 60_000 })
    // Many turns of the event loop: the worker keeps letting the acknowledgements go first.
    for (let turn = 0; turn < 50; turn++) await new Promise((r) => setImmediate(r))
    expect(decided()).toBe(0)
    waiting = false
    patient.wake()
    await waitFor(() => decided() === 3, { what: 'the three messages triaged' })
    await patient.stop()

    for (const id of [4, 5, 6]) await send(id)
    const flooded = worker({ acknowledgementsWaiting: () => true, yieldMs: 20 })
    await waitFor(() => decided() === 6, { what: 'triage under a flood of acknowledgements' })
    await flooded.stop()
  })

  it("makes a long slice (PostgreSQL's) triage a read's worth before it yields to them", async () => {
    const { send, decided, worker } = await hubWithoutWorker()
    for (let id = 1; id <= 20; id++) await send(id)
    const long = worker({
      sliceMs: 60_000,
      pollMs: 60_000,
      acknowledgementsWaiting: () => true,
      yieldMs: 0,
    })
    await waitFor(() => decided() === 20, { what: 'the twenty messages triaged' })
    await long.stop()
    // Deliveries waited all along: 8, 8 and 4 messages, not a slice each.
    expect(long.slices()).toBe(3)
  })
})
