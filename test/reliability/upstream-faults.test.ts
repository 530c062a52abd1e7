import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outbox } from '../../src/store/schema.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { settled, testHub } from '../helpers/hub.js'
import { run } from '../helpers/process.js'
import { channelEnv } from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'
import {
  mixedTraffic,
  type ReliabilityUpstreams,
  sendStream,
  startReliabilityUpstreams,
  upstreamDuplicates,
} from './harness.js'

// Chatwoot, the Graph API and the SMTP server fail in every way an upstream does: 5xx, 429 with
// Retry-After, calls that hang past the timeout, connections dropped before or after the work
// was done. Everything must still arrive exactly once; what fails for good waits in the dead
// letter until someone replays it.

/** What `upstreamDuplicates` finds when no action was seen twice by an upstream. */
const NOTHING_TWICE = { chatwoot: [], mirrors: [], reassigned: [], whatsapp: [], email: [] }

describe('upstream faults', () => {
  let up: ReliabilityUpstreams
  let t: ReturnType<typeof testHub>
  let base: string

  beforeAll(async () => {
    up = await startReliabilityUpstreams()
    t = testHub({
      ...channelEnv(up),
      ADMIN_TOKEN: SECRETS.admin,
      WEBHOOK_RATE_LIMIT: '100000',
      OUTBOUND_TIMEOUT_MS: '300',
      OUTBOX_LEASE_MS: '1000',
      OUTBOX_RETRY_BASE_MS: '400',
    })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
    up.graph.sendStatusesTo(`${base}/webhooks/whatsapp`, SECRETS.whatsapp)
  })
  afterAll(async () => {
    await t?.close()
    await up?.close()
  })

  it('delivers every action exactly once through 5xx, 429, timeouts and dropped connections', async () => {
    const posts = /^POST .*\/messages$/
    up.chatwoot.fail({ status: 500, times: 3 })
    up.chatwoot.fail({ status: 429, headers: { 'retry-after': '1' }, times: 2 })
    // Hangs past OUTBOUND_TIMEOUT_MS, then drops: the hub gave up waiting, nothing was done.
    up.chatwoot.fail({ status: 0, delayMs: 800, times: 2 })
    // Done, but the answer never arrives: the retry must find the message already there.
    up.chatwoot.fail({ status: 200, afterAccept: true, match: posts, times: 3 })
    up.chatwoot.fail({ status: 0, times: 2 })
    up.graph.fail({ status: 500, times: 2 })
    up.graph.fail({ status: 429, times: 1 })
    up.graph.fail({ status: 200, afterAccept: true, times: 2 })
    up.sink.fail(421, 2)

    const { unique, stream } = mixedTraffic(60, 'faults')
    const report = await sendStream(base, stream, { concurrency: 8 })
    expect([...report.statuses.keys()]).toEqual([200])
    await settled(t.hub, 60_000)

    const effects = t.hub.db.select().from(outbox).all()
    expect(effects.filter((e) => e.status === 'dead')).toEqual([])
    // Some actions needed more than one try: the faults were really met.
    expect(effects.some((e) => e.attempts > 1)).toBe(true)
    const dupes = upstreamDuplicates(up)
    expect(dupes).toMatchObject(NOTHING_TWICE)
    expect(dupes.sent.chatwoot).toBeGreaterThan(0)
    expect(dupes.sent.whatsapp).toBeGreaterThan(0)
    expect(dupes.sent.email).toBeGreaterThan(0)
    expect(unique.length).toBe(60)
  }, 90_000)

  it('dead-letters a permanent failure, lists it, and replays it from the API and the CLI', async () => {
    const env = { DATABASE_URL: `file:${t.dir}/centralita.db` }
    up.chatwoot.fail({ status: 422, match: /^POST .*\/conversations\/880\/messages$/, times: 1 })
    up.graph.fail({ status: 400, times: 1 })
    const send = deliver(base)
    expect(
      (
        await send.chatwoot(
          payloads.chatwoot(88_001, 880, '¿Cuál es el horario de atención?', {
            id: 881,
            name: 'Ana',
          }),
          'dlq-1',
        )
      ).status,
    ).toBe(200)
    expect(
      (
        await send.whatsapp(
          payloads.whatsapp(
            'wamid.DLQ0001',
            '56988887777',
            'Luis',
            '¿Cuál es el horario de atención?',
            new Date(),
          ),
        )
      ).status,
    ).toBe(200)
    const dead = await waitFor(
      () => {
        const rows = t.hub.db.select().from(outbox).where(eq(outbox.status, 'dead')).all()
        return rows.length === 2 ? rows : null
      },
      { timeoutMs: 20_000, what: 'two dead letters' },
    )
    const chatwootDead = dead.find((e) => e.kind.startsWith('chatwoot'))!
    const graphDead = dead.find((e) => e.kind.startsWith('whatsapp'))!
    expect(chatwootDead.lastError).toContain('422')
    expect(graphDead.lastError).toContain('400')

    // The CLI sees them, on the same database the hub is using.
    const listed = run(['dlq', 'list', '--json'], '', env)
    expect(listed.code).toBe(0)
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number })
    expect(lines.map((l) => l.id).sort()).toEqual([chatwootDead.id, graphDead.id].sort())
    const shown = run(['dlq', 'show', String(chatwootDead.id)], '', env)
    expect(shown.stdout).toContain('422')

    // Unauthenticated, the API says nothing; with the token it lists and replays.
    expect((await fetch(`${base}/api/outbox`)).status).toBe(401)
    const api = deliver(base).api
    const listedApi = (await (await api('/outbox?status=dead')).json()) as {
      effects: { id: number }[]
    }
    expect(listedApi.effects.map((e) => e.id).sort()).toEqual(
      [chatwootDead.id, graphDead.id].sort(),
    )
    const replayed = await api(`/outbox/${chatwootDead.id}/replay`, {
      method: 'POST',
      body: { by: 'supervisor' },
    })
    expect(replayed.status).toBe(200)
    expect(
      (await api(`/outbox/${chatwootDead.id}/replay`, { method: 'POST', body: { by: 'x' } }))
        .status,
    ).toBe(409)

    const cli = run(['dlq', 'replay', String(graphDead.id)], '', env)
    expect(cli.stdout).toContain('replayed 1')

    // Both go out (the CLI's replay within the hub's safety poll), each exactly once.
    await waitFor(
      () =>
        t.hub.db
          .select()
          .from(outbox)
          .where(
            and(inArray(outbox.id, [chatwootDead.id, graphDead.id]), eq(outbox.status, 'done')),
          )
          .all().length === 2,
      { timeoutMs: 15_000, what: 'replayed effects done' },
    )
    const dupes = upstreamDuplicates(up)
    expect(dupes).toMatchObject(NOTHING_TWICE)
    const keyOf = (m: { content_attributes: Record<string, unknown> }) =>
      (m.content_attributes.centralita as { key?: string } | undefined)?.key
    expect(
      (up.chatwoot.messages.get('1:880') ?? []).filter(
        (m) => keyOf(m) === chatwootDead.idempotencyKey,
      ),
    ).toHaveLength(1)
    expect(up.graph.sent.filter((m) => m.callbackKey === graphDead.idempotencyKey)).toHaveLength(1)
  }, 60_000)
})
