import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outbox, triageDecisions } from '../../src/store/schema.js'
import { type FakeChatwoot, startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { settled, testHub } from '../helpers/hub.js'
import { waitFor } from '../helpers/wait.js'

// What a routed message costs in Chatwoot calls: the conversation's first message sets what
// it needs once (labels without reading them, priority, team, an agent, the note last); the
// next ones, whose webhook says the conversation already has all that, cost the note alone.

const agents = [
  { id: 41, name: 'Fran', availability_status: 'online' as const },
  { id: 42, name: 'Gabi', availability_status: 'online' as const },
]

describe('Chatwoot calls per routed message', () => {
  let chatwoot: FakeChatwoot
  let t: ReturnType<typeof testHub>
  let send: ReturnType<typeof deliver>

  beforeAll(async () => {
    chatwoot = await startFakeChatwoot({ members: { 4: agents } })
    t = testHub({
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      CHATWOOT_BASE_URL: chatwoot.url,
      CHATWOOT_API_TOKEN: chatwoot.token,
      CHATWOOT_ACCOUNT_ID: '1',
    })
    send = deliver(`http://127.0.0.1:${(await t.hub.listen()).port}`)
  })
  afterAll(async () => {
    await t.close()
    await chatwoot.close()
  })

  const contact = { id: 77, name: 'Rosa', email: 'rosa@example.cl' }
  const decided = () => t.hub.db.select().from(triageDecisions).all().length
  /** A customer's message in conversation 930, with the state Chatwoot has for it now. */
  const says = async (id: number, text: string) => {
    const before = decided()
    const calls = chatwoot.requests.length
    const state = chatwoot.conversationState(1, 930)
    const res = await send.chatwoot(payloads.chatwoot(id, 930, text, contact, state), `calls-${id}`)
    expect(res.status).toBe(200)
    await waitFor(() => decided() > before, { what: `the decision on message ${id}` })
    await settled(t.hub)
    return chatwoot.requests
      .slice(calls)
      .map((r) => `${r.method} ${r.path.replace('/api/v1/accounts/1', '')}`)
  }

  it('sets what the conversation needs once, then a follow-up costs only its note', async () => {
    const first = await says(9301, 'Me cobraron dos veces la misma compra')
    expect(first).toEqual([
      'POST /conversations/930/labels',
      'POST /conversations/930/toggle_priority',
      'GET /teams',
      'POST /conversations/930/assignments',
      'GET /teams/4/team_members',
      'POST /conversations/930/assignments',
      'POST /conversations/930/messages',
    ])
    expect(chatwoot.labels.get('1:930')).toEqual(expect.arrayContaining(['payment']))
    expect(chatwoot.assignees.get('1:930')).toBe(41)

    const next = await says(9302, 'Me cobraron dos veces la misma compra, sigo esperando')
    expect(next).toEqual(['POST /conversations/930/messages'])
    const notes = chatwoot.messages.get('1:930')!.filter((m) => m.private)
    expect(notes).toHaveLength(2)
    expect(chatwoot.violations()).toEqual([])
  })

  it('waits out a 429 and calls again, without spending an attempt or a dead letter', async () => {
    chatwoot.fail({ status: 429, times: 1, match: /^POST .*\/conversations\/931\/messages$/ })
    const before = chatwoot.requests.length
    const res = await send.chatwoot(
      payloads.chatwoot(9311, 931, 'Me cobraron dos veces la misma compra', contact),
      'calls-9311',
    )
    expect(res.status).toBe(200)
    await waitFor(() => chatwoot.messages.get('1:931')?.some((m) => m.private), {
      what: 'the note, after the 429',
      timeoutMs: 8000,
    })
    await settled(t.hub)
    const notes = chatwoot.requests
      .slice(before)
      .filter((r) => r.method === 'POST' && r.path.endsWith('/931/messages'))
    expect(notes).toHaveLength(2)
    const effects = t.hub.db.select().from(outbox).all()
    expect(effects.filter((e) => e.status !== 'done')).toEqual([])
    expect(
      effects.find(
        (e) => e.idempotencyKey.endsWith(':note') && e.payload.includes('"conversationId":931'),
      )?.attempts,
    ).toBe(1)
  })

  it('reads the team list again when Chatwoot no longer knows the team it gave (404), and assigns', async () => {
    chatwoot.fail({ status: 404, times: 1, match: /^POST .*\/conversations\/932\/assignments$/ })
    const before = chatwoot.requests.length
    const res = await send.chatwoot(
      payloads.chatwoot(9321, 932, 'Me cobraron dos veces la misma compra', contact),
      'calls-9321',
    )
    expect(res.status).toBe(200)
    await waitFor(() => chatwoot.assignees.get('1:932'), { what: 'the agent, after the 404' })
    await settled(t.hub)
    const calls = chatwoot.requests.slice(before).map((r) => `${r.method} ${r.path}`)
    expect(calls.filter((c) => c === 'GET /api/v1/accounts/1/teams')).toHaveLength(1)
    expect(calls.filter((c) => c.endsWith('/932/assignments'))).toHaveLength(3)
    const effects = t.hub.db.select().from(outbox).all()
    expect(effects.filter((e) => e.status === 'dead')).toEqual([])
  })
})
