import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { ownModelCache, RULES_DIR, tempDir } from '../helpers/hub.js'
import { run, type ServeProcess, startServe } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'
import { ZENTRIX_FAULTS } from '../helpers/zentrix.js'

// A business sells a device the corpus has never heard of, the "zentrix". Its customers write
// about its faults; the hub cannot tell what those are ("other": a person decides). The people
// who answer correct the decisions, in the console and in Chatwoot; `centralita train` learns
// from them, the running hub takes the new model up, and the next such message is read as a
// technical problem. A rollback returns the hub to the model before.

const FAULTS = ZENTRIX_FAULTS
const PROBE = 'se me trabó el zentrix'

describe('learning from corrections, end to end', () => {
  const temp = tempDir('centralita-learning-')
  const dbPath = join(temp.dir, 'centralita.db')
  const cacheDir = join(temp.dir, 'model')
  const env = {
    DATABASE_URL: `file:${dbPath}`,
    RULES_DIR,
    MODEL_CACHE_DIR: cacheDir,
    CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
    ADMIN_TOKEN: SECRETS.admin,
    WEBHOOK_RATE_LIMIT: '100000',
    LOG_LEVEL: 'info',
  }
  let serve: ServeProcess
  let db: Database.Database
  let next = 0
  beforeAll(async () => {
    ownModelCache(temp.dir)
    serve = await startServe(env)
    db = new Database(dbPath, { readonly: true })
  })
  afterAll(async () => {
    db?.close()
    serve.child.kill('SIGTERM')
    await serve.exited
    temp.cleanup()
  })

  /** Sends `text` in a conversation of its own; resolves with its decision. */
  const decide = async (text: string) => {
    const n = ++next
    const res = await deliver(serve.base).chatwoot(
      payloads.chatwoot(9000 + n, 700 + n, text, { id: 300 + n, name: `Cliente ${n}` }),
      `learn-${n}`,
    )
    expect(res.status).toBe(200)
    return waitFor(
      () =>
        db
          .prepare(
            `select d.id as id, d.intent as intent, d.explanation as explanation
               from triage_decisions d join messages m on m.id = d.message_id
              where m.external_id = ?`,
          )
          .get(`1:${9000 + n}`) as { id: number; intent: string; explanation: string } | undefined,
      { timeoutMs: 15_000, what: `the decision on "${text}"` },
    )
  }

  const console = (path: string, form: Record<string, string | string[]>) => {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one)
    return fetch(`${serve.base}/admin${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${SECRETS.admin}`,
        'content-type': 'application/x-www-form-urlencoded',
        origin: serve.base,
      },
      body,
    })
  }

  it('corrections in the console and in Chatwoot → train → adopted → the next message is decided anew → rollback', async () => {
    const before = await decide(PROBE)
    expect(before.intent).not.toBe('support')

    const decisions = []
    for (const text of FAULTS) decisions.push(await decide(text))
    expect(decisions.filter((d) => d.intent === 'support').length).toBeLessThan(4)

    // What is not a correction says why.
    const api = deliver(serve.base).api
    const bad = await api(`/decisions/${decisions[0]!.id}/correct`, {
      method: 'POST',
      body: { intent: 'zentrix' },
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/^intent: /)
    const unknownQueue = await api(`/decisions/${decisions[0]!.id}/correct`, {
      method: 'POST',
      body: { queue: 'nowhere' },
    })
    expect(await unknownQueue.json()).toEqual({
      error: 'queue: no queue "nowhere" in the rulebook',
    })
    expect((await api('/decisions/999999/correct', { method: 'POST', body: {} })).status).toBe(404)
    const forged = await fetch(`${serve.base}/admin/decisions/${decisions[0]!.id}/correct`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SECRETS.admin}`,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://elsewhere.example',
      },
      body: 'intent=support',
    })
    expect(forged.status).toBe(403)

    // Twelve are corrected in the console: the form as shown, with the intent changed.
    for (const d of decisions.slice(0, 12)) {
      const res = await console(`/decisions/${d.id}/correct`, {
        intent: 'support',
        level: '',
        queue: 'general',
      })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toMatch(/done=(corrected|unchanged)/)
    }
    // Four in Chatwoot: a person adds the "support" label to the conversation.
    const send = deliver(serve.base)
    for (const [i, d] of decisions.slice(12).entries()) {
      const n = next - FAULTS.length + 12 + i + 1
      const res = await send.chatwoot(
        {
          event: 'conversation_updated',
          id: 700 + n,
          inbox_id: 3,
          channel: 'Channel::WebWidget',
          status: 'open',
          account: { id: 1, name: 'Tienda' },
          labels: [d.intent, 'support'],
          meta: { assignee: { id: 5, name: 'Paula' } },
          changed_attributes: [
            { label_list: { previous_value: [d.intent], current_value: [d.intent, 'support'] } },
          ],
        },
        `labels-${n}`,
      )
      expect(res.status).toBe(200)
    }
    const corrections = db
      .prepare('select source, actor, corrected from corrections order by id')
      .all() as { source: string; actor: string; corrected: string }[]
    const corrected = corrections.filter((c) => JSON.parse(c.corrected).intent === 'support')
    expect(corrected.filter((c) => c.source === 'console')).toHaveLength(
      decisions.slice(0, 12).filter((d) => d.intent !== 'support').length,
    )
    expect(corrected.filter((c) => c.source === 'chatwoot').map((c) => c.actor)).toEqual(
      decisions
        .slice(12)
        .filter((d) => d.intent !== 'support')
        .map(() => 'chatwoot: Paula'),
    )

    // The export has every correction, with its text.
    const exported = await fetch(`${serve.base}/api/corrections?format=jsonl`, {
      headers: { authorization: `Bearer ${SECRETS.admin}` },
    })
    const lines = (await exported.text()).trim().split('\n')
    expect(lines).toHaveLength(corrections.length)
    expect(FAULTS).toContain(JSON.parse(lines[0]!).text)

    const trained = run(['train'], '', {
      DATABASE_URL: env.DATABASE_URL,
      RULES_DIR,
      MODEL_CACHE_DIR: cacheDir,
    })
    expect(trained.stderr).toBe('')
    expect(trained.code).toBe(0)
    expect(trained.stdout).toMatch(/model #1 adopted/)

    // The running hub takes it up within seconds; the same words are now a technical problem.
    await waitFor(() => serve.output().includes('classifier changed'), {
      timeoutMs: 15_000,
      what: 'the hub to take the new model up',
    })
    // Worked out on the text-analysis thread, which read the new model too.
    const onThread = async () =>
      Number(
        /^centralita_text_analyses_total\{where="thread"\} (\d+)/m.exec(
          await (await fetch(`${serve.base}/metrics`)).text(),
        )?.[1] ?? 0,
      )
    const threadBefore = await onThread()
    const after = await decide(PROBE)
    expect(after.intent).toBe('support')
    expect(await onThread()).toBeGreaterThan(threadBefore)
    expect(JSON.parse(after.explanation).classifier.name).toMatch(/model #1, \d+ corrections/)

    // The console shows the model, its measures and why it was adopted.
    const page = await (
      await fetch(`${serve.base}/admin/learning`, {
        headers: { authorization: `Bearer ${SECRETS.admin}` },
      })
    ).text()
    expect(page).toContain('id="model-in-use"><strong>#1</strong>')
    expect(page).toMatch(/not worse than the corpus model/)
    expect(page).toMatch(/<table id="live-accuracy">[\s\S]*other[\s\S]*\(\d+\/\d+\)/)

    // One click back: the corpus model decides again.
    const back = await console('/learning/rollback', {})
    expect(back.status).toBe(303)
    await waitFor(() => serve.output().split('classifier changed').length > 2, {
      timeoutMs: 15_000,
      what: 'the hub to take the rollback up',
    })
    expect((await decide(PROBE)).intent).toBe(before.intent)
  }, 120_000)
})
