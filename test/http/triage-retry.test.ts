import { eq } from 'drizzle-orm'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src/kit/clock.js'
import { oneAtATime } from '../../src/store/one-at-a-time.js'
import { openPostgres } from '../../src/store/postgres.js'
import { jobs, messages, triageDecisions } from '../../src/store/schema.js'
import { TRIAGE_PARTS } from '../../src/store/triage-parts.js'
import { claimTriagePart } from '../../src/store/triage-queue.js'
import type { IntentClassifier } from '../../src/triage/triage.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { holdTransaction } from '../helpers/hold.js'
import { ownTriageWorker, testHub, testHubOnPostgres } from '../helpers/hub.js'
import { postgresForSuite } from '../helpers/postgres.js'
import { describeWithService } from '../helpers/services.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

const NOW = new Date('2026-11-20T10:00:00Z')

// A classifier that breaks on one message, as a bug or a corrupt model would.
const brittle: IntentClassifier = {
  name: 'breaks on "boom"',
  scores(tokens) {
    if (tokens.some((t) => t.word === 'boom')) throw new Error('classifier broke')
    return new Map([['faq', 0.9] as const, ['other', 0.1] as const])
  },
}

describe('a message whose triage fails', () => {
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  it('rolls back alone, is retried with backoff, and ends failed after five tries', async () => {
    const clock = manualClock(NOW)
    t = testHub({ CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot }, { clock, classifier: brittle })
    const hub = t.hub
    const send = async (id: number, text: string) => {
      const body = JSON.stringify(payloads.chatwoot(id, 700 + id, text, { id, name: 'Ana' }))
      const headers = chatwootHeaders(body, SECRETS.chatwoot, {
        timestamp: Math.floor(clock.now().getTime() / 1000),
        delivery: `retry-${id}`,
      })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
      return hub.db
        .select()
        .from(messages)
        .where(eq(messages.externalId, `1:${id}`))
        .get()!.id
    }
    // A message gets a retry row when its triage fails, not before.
    const retryOf = (messageId: number) =>
      hub.db.select().from(jobs).where(eq(jobs.refId, messageId)).get()
    const decided = (messageId: number) =>
      hub.db.select().from(triageDecisions).where(eq(triageDecisions.messageId, messageId)).all()

    const broken = await send(1, 'boom')
    const fine = await send(2, '¿A qué hora abren el sábado?')
    hub.worker.wake()
    await waitFor(() => decided(fine).length === 1, { what: 'the other message triaged' })
    await waitFor(() => retryOf(broken)?.attempts === 1, { what: 'the first failed try' })
    let job = retryOf(broken)!
    expect(job).toMatchObject({ status: 'pending', lastError: 'classifier broke' })
    expect(job.runAt).toBeGreaterThan(NOW.getTime())
    expect(decided(broken)).toEqual([])

    // Not before its time: waking the worker early does not run it again.
    hub.worker.wake()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(retryOf(broken)!.attempts).toBe(1)

    for (let attempt = 2; attempt <= 5; attempt++) {
      clock.set(new Date(retryOf(broken)!.runAt))
      hub.worker.wake()
      await waitFor(() => retryOf(broken)?.attempts === attempt, { what: `try ${attempt}` })
    }
    job = retryOf(broken)!
    expect(job.status).toBe('failed')
    expect(decided(broken)).toEqual([])
    expect(decided(fine)).toHaveLength(1)
    expect(retryOf(fine)).toBeUndefined()
  })
})

// On PostgreSQL a slice runs without a savepoint per message, and again with them when one of
// its messages fails: the failure must still stay with that message.
describeWithService('postgres', 'a message whose triage fails, on PostgreSQL', () => {
  const postgres = postgresForSuite()
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  it('rolls back alone while the messages around it are triaged', async () => {
    const url = postgres.database()
    t = await testHubOnPostgres(
      url,
      { CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot },
      {
        classifier: brittle,
      },
    )
    const hub = t.hub
    const send = async (id: number, text: string) => {
      const body = JSON.stringify(payloads.chatwoot(id, 700 + id, text, { id, name: 'Ana' }))
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `pg-retry-${id}` })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
    }
    const decided = async () =>
      (
        await hub.sql.all<{ text: string }>(
          `select m.text from triage_decisions d join messages m on m.id = d.message_id
            order by m.id`,
        )
      ).map((r) => r.text)
    // Stored before the worker looks: one slice holds all three.
    await send(1, '¿A qué hora abren el sábado?')
    await send(2, 'boom')
    await send(3, '¿Hacen envíos a Canarias?')
    hub.worker.wake()
    await waitFor(async () => (await decided()).length === 2, { what: 'the others triaged' })
    const retry = async () =>
      hub.sql.get<{ attempts: number; last_error: string; text: string }>(
        `select j.attempts, j.last_error, m.text from jobs j join messages m on m.id = j.ref_id
          where j.kind = 'triage'`,
      )
    await waitFor(async () => (await retry()) !== undefined, { what: 'the failed try recorded' })
    expect(await retry()).toEqual({ attempts: 1, last_error: 'classifier broke', text: 'boom' })
    expect(await decided()).toEqual(['¿A qué hora abren el sábado?', '¿Hacen envíos a Canarias?'])
  })

  it('leaves a part of the queue to the instance at it, and takes it when that one is gone', async () => {
    const url = postgres.database()
    t = await testHubOnPostgres(url, { CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot })
    const hub = t.hub
    await hub.worker.stop()
    for (const [id, text] of [
      [41, '¿Abren los domingos?'],
      [42, '¿Hacen envíos a Canarias?'],
    ] as const) {
      const body = JSON.stringify(payloads.chatwoot(id, 740 + id, text, { id, name: 'Eva' }))
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: `pg-part-${id}` })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
    }
    const stored = await hub.sql.all<{ text: string; part: number }>(
      `select text, conversation_id % ${TRIAGE_PARTS} as part from messages order by id`,
    )
    expect(stored[0]!.part).not.toBe(stored[1]!.part)
    // Another instance is in the middle of a slice of the first message's part…
    const other = openPostgres(url, { max: 1 })
    const slice = holdTransaction(other.sql, (tx) =>
      claimTriagePart(tx, new Date(), stored[0]!.part),
    )
    const decided = async () =>
      (
        await hub.sql.all<{ text: string }>(
          'select m.text from triage_decisions d join messages m on m.id = d.message_id',
        )
      ).map((row) => row.text)
    let worker: ReturnType<typeof ownTriageWorker> | null = null
    try {
      expect((await slice.result)?.part).toBe(stored[0]!.part)
      worker = ownTriageWorker(hub, { pollMs: 200 })
      // …so this one triages the other part's message, not that part's, and keeps no
      // connection waiting for it…
      await waitFor(async () => (await decided()).length === 1, { what: 'the other part' })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await decided()).toEqual([stored[1]!.text])
      const waiting = await hub.sql.get<{ n: number }>(
        "select count(*) as n from pg_locks where locktype = 'advisory' and not granted",
      )
      expect(Number(waiting?.n)).toBe(0)
      // …and when that instance is gone without a word, this one takes the part up.
      slice.release()
      await slice.done
      await waitFor(async () => (await decided()).length === 2, {
        timeoutMs: 5000,
        what: 'the message triaged here',
      })
    } finally {
      slice.release()
      await worker?.stop()
      await other.close()
    }
  })

  it('leaves the queue to an instance of an older version at it, while instances are upgraded one by one', async () => {
    const url = postgres.database()
    t = await testHubOnPostgres(url, { CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot })
    const hub = t.hub
    // An instance of the version before parts is in the middle of a slice, holding the one
    // queue's turn…
    const other = openPostgres(url, { max: 1 })
    const slice = holdTransaction(other.sql, (tx) => oneAtATime(tx, 'triage'))
    try {
      await slice.result
      const body = JSON.stringify(
        payloads.chatwoot(31, 731, '¿Abren los domingos?', { id: 31, name: 'Eva' }),
      )
      const headers = chatwootHeaders(body, SECRETS.chatwoot, { delivery: 'pg-turn-31' })
      expect(
        (await request(hub.app).post('/webhooks/chatwoot').set(headers).send(body)).status,
      ).toBe(200)
      hub.worker.wake()
      const decided = async () =>
        Number((await hub.sql.get<{ n: number }>('select count(*) as n from triage_decisions'))?.n)
      // …so this one neither triages beside it nor keeps a connection waiting for the turn…
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await decided()).toBe(0)
      const waiting = await hub.sql.get<{ n: number }>(
        "select count(*) as n from pg_locks where locktype = 'advisory' and not granted",
      )
      expect(Number(waiting?.n)).toBe(0)
      // …and when that instance is gone without a word, this one takes the queue up.
      slice.release()
      await slice.done
      await waitFor(async () => (await decided()) === 1, {
        timeoutMs: 5000,
        what: 'the message triaged here',
      })
    } finally {
      slice.release()
      await other.close()
    }
  })
})
