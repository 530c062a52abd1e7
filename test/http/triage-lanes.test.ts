import request from 'supertest'
import { afterEach, expect, it } from 'vitest'
import type { Hub } from '../../src/hub.js'
import type { Sql } from '../../src/store/sql.js'
import { TRIAGE_PARTS } from '../../src/store/triage-parts.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { ownTriageWorker, type testHub, testHubOnPostgres } from '../helpers/hub.js'
import { postgresForSuite } from '../helpers/postgres.js'
import { describeWithService } from '../helpers/services.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

// On PostgreSQL an instance runs triage lanes side by side, each slice on a part of the queue
// (a conversation's part: `triage-parts.ts`). Lanes triage different conversations at once;
// one conversation's messages are still triaged one after another, in the order they came.

const TEXTS = [
  '¿A qué hora abren el sábado?',
  'Me cobraron dos veces el mismo pedido',
  'Quisiera una cotización para 20 sillas',
  'Muchas gracias',
]

describeWithService('postgres', 'triage lanes on PostgreSQL', () => {
  const postgres = postgresForSuite()
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  /** The `i`th message, in conversation `conversation`, acknowledged. */
  async function post(hub: Hub, i: number, conversation: number) {
    const body = JSON.stringify(
      payloads.chatwoot(i, conversation, `${TEXTS[i % TEXTS.length]} (${i})`, {
        id: conversation,
        name: `Persona ${conversation}`,
      }),
    )
    const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `lanes-${i}` })
    expect((await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status).toBe(
      200,
    )
  }

  /** `count` messages over `conversations` conversations, stored while no worker runs. */
  async function stored(conversations: number, count: number) {
    const url = postgres.database()
    t = await testHubOnPostgres(url, { CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot })
    const hub = t.hub
    await hub.worker.stop()
    for (let i = 1; i <= count; i++) await post(hub, i, 900 + (i % conversations))
    return hub
  }

  /** Each message's decision, in the order decisions were written. */
  const decisions = (sql: Sql) =>
    sql.all<{ message: number; conversation: number }>(
      `select message_id as message, conversation_id as conversation
         from triage_decisions order by id`,
    )

  it('triages parts side by side, and each conversation in order', async () => {
    const hub = await stored(TRIAGE_PARTS, 48)
    // The first slice to begin waits (2 s at most) for another to begin beside it.
    let open = 0
    let most = 0
    let second = () => {}
    const beside = new Promise<void>((resolve) => {
      second = resolve
    })
    const db: Sql = {
      ...hub.sql,
      transaction: (async (body) => {
        open++
        most = Math.max(most, open)
        if (open > 1) second()
        try {
          if (open === 1 && most === 1)
            await Promise.race([beside, new Promise((r) => setTimeout(r, 2000))])
          return await hub.sql.transaction(body)
        } finally {
          open--
        }
      }) as Sql['transaction'],
    }
    const worker = ownTriageWorker(hub, { db, lanes: 2, pollMs: 60_000 })
    try {
      await waitFor(async () => (await decisions(hub.sql)).length === 48, {
        what: 'every message triaged',
      })
    } finally {
      await worker.stop()
    }
    expect(most).toBe(2)
    const decided = await decisions(hub.sql)
    expect(new Set(decided.map((d) => d.message)).size).toBe(48)
    // Within each conversation, decisions were written in the order the messages came.
    const byConversation = new Map<number, number[]>()
    for (const { message, conversation } of decided)
      byConversation.set(conversation, [...(byConversation.get(conversation) ?? []), message])
    expect(byConversation.size).toBe(TRIAGE_PARTS)
    for (const messages of byConversation.values())
      expect(messages).toEqual([...messages].sort((a, b) => a - b))
  })

  it('goes from part to part while any has work, without being woken again', async () => {
    const hub = await stored(5, 5)
    // How each slice asked for its transaction.
    const asked: unknown[] = []
    const db: Sql = {
      ...hub.sql,
      transaction: ((body, options) => {
        asked.push(options)
        return hub.sql.transaction(body, options)
      }) as Sql['transaction'],
    }
    // One lane, woken once when it starts, its safety poll a minute away.
    const worker = ownTriageWorker(hub, { db, pollMs: 60_000 })
    try {
      await waitFor(async () => (await decisions(hub.sql)).length === 5, {
        timeoutMs: 5000,
        what: 'the five conversations triaged',
      })
      // The lane claims once more after the last part, and finds none.
      await waitFor(() => worker.slices() >= 6, { timeoutMs: 5000, what: 'a sixth slice' })
    } finally {
      await worker.stop()
    }
    // One slice a part, each claimed after the last ended, and one that found none left.
    expect(worker.slices()).toBe(6)
    // Each on the plans its statements keep (kept-plans.pg.test.ts).
    expect(asked).toEqual(Array(6).fill({ keptPlans: true }))
  })

  it('at a trickle, triages together the messages that came while a lane waited for more', async () => {
    // One lane, woken by each message as the hub's would be, with the hub's slices; the same
    // trickle with and without a wait after the lane caught up (longer here than the hub's
    // 20 ms: here a message comes every few tens of milliseconds, each sent once the one
    // before is acknowledged).
    const slices = async (gatherMs: number) => {
      const hub = await stored(1, 0)
      const worker = ownTriageWorker(hub, { gatherMs, sliceMs: 25, pollMs: 60_000 })
      try {
        // Into one part: the lane's slices follow one another.
        for (let i = 1; i <= 40; i++) {
          await post(hub, i, 900 + 8 * (i % 3))
          worker.wake()
        }
        await waitFor(async () => (await decisions(hub.sql)).length === 40, {
          what: 'every message triaged',
        })
      } finally {
        await worker.stop()
        await t?.close()
        t = null
      }
      return worker.slices()
    }
    const eachAlone = await slices(0)
    const gathered = await slices(200)
    // Without the wait nearly each message has a slice of its own (and the lane one more to
    // find it caught up); with it, a slice takes the messages of a while.
    expect(gathered).toBeLessThan(eachAlone / 2)
  })
})
