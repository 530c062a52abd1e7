import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { triageDecisions } from '../../src/store/schema.js'
import { type FakeChatwoot, startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { settled, testHub } from '../helpers/hub.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'chatwoot-webhook-secret'
const fixture = (name: string) =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../adapters/chatwoot/fixtures', name), 'utf8'),
  )

describe('Chatwoot end to end, through a real HTTP server', () => {
  let chatwoot: FakeChatwoot
  let t: ReturnType<typeof testHub>
  let base: string

  beforeAll(async () => {
    chatwoot = await startFakeChatwoot()
    t = testHub({
      CHATWOOT_WEBHOOK_SECRET: SECRET,
      CHATWOOT_BASE_URL: chatwoot.url,
      CHATWOOT_API_TOKEN: chatwoot.token,
      CHATWOOT_ACCOUNT_ID: '1',
    })
    const address = await t.hub.listen()
    base = `http://127.0.0.1:${address.port}`
  })
  afterAll(async () => {
    await t.close()
    await chatwoot.close()
  })

  const deliver = (payload: unknown, delivery: string) => {
    const body = JSON.stringify(payload)
    return fetch(`${base}/webhooks/chatwoot`, {
      method: 'POST',
      headers: chatwootHeaders(body, SECRET, { delivery }),
      body,
    })
  }

  it('triages "Los voy a demandar" as legal and hands it to the legal team in Chatwoot', async () => {
    const payload = fixture('message_created_legal.json')
    payload.content = 'Los voy a demandar'
    const res = await deliver(payload, 'delivery-legal')
    expect(res.status).toBe(200)

    const key = '1:312'
    await waitFor(
      () =>
        chatwoot.assignments.get(key) &&
        chatwoot.labels.get(key) &&
        chatwoot.priorities.get(key) &&
        chatwoot.messages.get(key)?.length,
      {
        what: 'note, assignment, labels and priority in Chatwoot',
      },
    )
    const decision = t.hub.db.select().from(triageDecisions).get()!
    expect(decision).toMatchObject({
      intent: 'legal',
      priority: 'critica',
      level: 'L3',
      queue: 'legal',
    })

    expect(chatwoot.assignments.get(key)).toEqual({ team_id: 7 })
    expect(chatwoot.labels.get(key)).toEqual(
      expect.arrayContaining(['legal', 'critica', 'l3', 'legal_threat']),
    )
    expect(chatwoot.priorities.get(key)).toBe('urgent')
    const [note] = chatwoot.messages.get(key)!
    expect(note!.private).toBe(true)
    expect(note!.content).toContain('legal')
    expect(note!.content).toContain('amenaza legal')
    expect(note!.content_attributes).toEqual({ centralita: { key: 'msg:1:note' } })
    // Legal threats are never answered automatically: no public message was posted.
    expect(chatwoot.messages.get(key)!.filter((m) => !m.private)).toHaveLength(0)
    // Every call the hub made is a valid Chatwoot API request.
    expect(chatwoot.violations()).toEqual([])
    const paths = chatwoot.requests.map((r) => `${r.method} ${r.path}`)
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /api/v1/accounts/1/conversations/312/messages',
        'POST /api/v1/accounts/1/conversations/312/assignments',
        'POST /api/v1/accounts/1/conversations/312/labels',
        'POST /api/v1/accounts/1/conversations/312/toggle_priority',
        'GET /api/v1/accounts/1/teams',
      ]),
    )
    for (const r of chatwoot.requests) expect(r.headers.api_access_token).toBe(chatwoot.token)
  })

  it('ignores its own note when Chatwoot echoes it back', async () => {
    // The first case's effects (round-robin lookup included) finish before we count.
    await settled(t.hub)
    const before = chatwoot.requests.length
    const decisions = t.hub.db.select().from(triageDecisions).all().length
    const [note] = chatwoot.messages.get('1:312')!
    const echo = fixture('message_created_hub_echo.json')
    echo.id = note!.id
    echo.content = note!.content
    echo.content_attributes = note!.content_attributes
    const res = await deliver(echo, 'delivery-echo')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, outcome: 'ignored' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(t.hub.db.select().from(triageDecisions).all()).toHaveLength(decisions)
    expect(chatwoot.requests.length).toBe(before)
  })

  it('answers an FAQ in the conversation and ignores the echo of that answer', async () => {
    const payload = fixture('message_created_incoming.json')
    payload.id = 9990
    payload.conversation.id = 400
    await deliver(payload, 'delivery-faq')
    const key = '1:400'
    const reply = await waitFor(() => chatwoot.messages.get(key)?.find((m) => !m.private), {
      what: 'FAQ answer',
    })
    expect(reply.content).toContain('sábados de 9:00 a 18:00')
    expect(reply.content_attributes).toEqual({ centralita: { key: 'msg:2:reply' } })

    const echo = fixture('message_created_outgoing_agent.json')
    echo.id = reply.id
    echo.conversation.id = 400
    echo.content = reply.content
    echo.content_attributes = reply.content_attributes
    const res = await deliver(echo, 'delivery-faq-echo')
    expect(await res.json()).toEqual({ ok: true, outcome: 'ignored' })
    expect(chatwoot.violations()).toEqual([])
  })

  it("keeps both messages' labels when two arrive in one conversation at once", async () => {
    // Chatwoot's labels endpoint replaces the list, so each labels effect reads it and adds its
    // own; two of them in one conversation must not overwrite each other.
    const message = (id: number, content: string) => {
      const payload = fixture('message_created_incoming.json')
      payload.id = id
      payload.conversation.id = 520
      payload.content = content
      return payload
    }
    // Each read of the list is answered late, as from a distant server, so the second message's
    // effects run while the first one's are still waiting for it.
    chatwoot.answerLate({ match: /GET .*\/520\/labels$/, times: 2, delayMs: 300 })
    const earlier = t.hub.db.select().from(triageDecisions).all().length
    const answers = await Promise.all([
      deliver(message(9601, 'Me cobraron dos veces la misma compra'), 'delivery-two-a'),
      deliver(message(9602, 'Los voy a demandar si no me devuelven el dinero'), 'delivery-two-b'),
    ])
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    await settled(t.hub)
    const decided = t.hub.db.select().from(triageDecisions).all().slice(earlier)
    expect(decided).toHaveLength(2)
    const wanted = decided.flatMap((d) => [d.intent, d.priority])
    expect(new Set(decided.map((d) => d.intent)).size).toBe(2)
    expect(chatwoot.labels.get('1:520')).toEqual(expect.arrayContaining(wanted))
    expect(chatwoot.violations()).toEqual([])
  })
})
