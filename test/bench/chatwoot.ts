import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import { SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR, tempDir } from '../helpers/hub.js'
import { startServe } from '../helpers/process.js'
import { cpuMicros, quantile } from './http.js'

// What a team sees: webhook → the conversation routed in Chatwoot. `centralita serve` (its
// own process, SQLite, the shipped rulebook) takes paced message_created webhooks from a
// loopback Chatwoot in another process (`chatwoot-side.ts`), which answers the hub's API calls
// after `latencyMs` and throttles them like Rack::Attack. A message is done when its last
// Chatwoot call lands: the private note of a handoff (the note goes last, and a
// conversation's calls run in order) or the answer of an automatic reply.

export type OutboxRun = {
  rate: number
  seconds: number
  latencyMs: number
  perMinute: number
  sent: number
  /** The hub's answers to the webhooks, by status. */
  answers: Record<string, number>
  /** Effects done per second, from the first webhook to the last effect. */
  actionsPerSecond: number
  callsPerMessage: number
  /** Calls per message for the conversations' first messages, and for the ones after. */
  callsFirst: number
  callsLater: number
  p50: number
  p99: number
  /** Requests Chatwoot answered 429. */
  throttled: number
  violations: number
  hubCpuPerMessage: number
  /** The loopback Chatwoot's (and its webhook sender's) CPU per message: it shares the VM. */
  chatwootCpuPerMessage: number
}

type Side = {
  url?: string
  sent?: number | [number, number][]
  answers?: Record<string, number>
  calls?: { at: number; path: string; key: string | null }[]
  throttled?: number
  violations?: number
}

export async function benchChatwoot(options: {
  rate: number
  seconds: number
  conversations: number
  latencyMs: number
  /** Chatwoot's throttle (RACK_ATTACK_LIMIT) and the hub's limit under it. */
  perMinute: number
  hubPerMinute: number
}): Promise<OutboxRun> {
  const temp = tempDir('centralita-bench-outbox-')
  const dbPath = join(temp.dir, 'centralita.db')
  const side = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'chatwoot-side.ts'), JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: side.stdout! })[Symbol.asyncIterator]()
  const read = async (): Promise<Side> => JSON.parse((await lines.next()).value as string) as Side
  const tell = (value: unknown) => side.stdin!.write(`${JSON.stringify(value)}\n`)
  const { url } = await read()
  const hub = await startServe(
    {
      DATABASE_URL: `file:${dbPath}`,
      RULES_DIR,
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      CHATWOOT_BASE_URL: url!,
      CHATWOOT_API_TOKEN: 'cw-test-token',
      CHATWOOT_ACCOUNT_ID: '1',
      CHATWOOT_API_RATE_LIMIT: String(options.hubPerMinute),
      NODE_OPTIONS:
        process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=8',
    },
    // BENCH_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where the hub's time goes.
    { timeoutMs: 60_000, nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [] },
  )
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    const decided = db.prepare('select count(*) as n from triage_decisions')
    const open = db.prepare(
      "select count(*) as n from outbox where status in ('pending', 'in_flight')",
    )
    const count = (s: Database.Statement) => (s.get() as { n: number }).n
    /** Sends a run of webhooks; resolves once each acknowledged one is triaged and acted on. */
    const run = async (seconds: number, firstId: number, base: number) => {
      const before = count(decided)
      tell({ go: hub.base, run: { firstId, seconds, base } })
      const { answers } = await read()
      const accepted = Object.entries(answers ?? {})
        .filter(([status]) => status.startsWith('2'))
        .reduce((n, [, c]) => n + c, 0)
      const target = before + accepted
      const deadline = Date.now() + 600_000
      // Every acknowledged message triaged, and every effect run.
      while (count(decided) < target || count(open) > 0) {
        if (Date.now() > deadline) throw new Error('the outbox did not drain in time')
        await new Promise((r) => setTimeout(r, 50))
      }
      return { answers: answers ?? {}, accepted }
    }
    // Warm-up (JIT, statement cache, team lists), on other conversations; not counted.
    await run(2, 2_000_000, 90_000)
    const firstMeasured = (db.prepare('select max(id) as n from messages').get() as { n: number }).n
    const cpuBefore = cpuMicros(hub.child.pid!)
    const sideCpuBefore = cpuMicros(side.pid!)
    const started = Date.now()
    const { answers, accepted } = await run(options.seconds, 1_000_000, 60_000)
    const hubCpuPerMessage = Math.round((cpuMicros(hub.child.pid!) - cpuBefore) / accepted)
    const chatwootCpuPerMessage = Math.round((cpuMicros(side.pid!) - sideCpuBefore) / accepted)
    const done = db
      .prepare(
        "select count(*) as n, max(done_at) as last from outbox where status = 'done' and created_at >= ?",
      )
      .get(started) as { n: number; last: number }
    tell({ report: true })
    const report = await read()
    const sentAt = new Map(report.sent as [number, number][])
    // Hub message id → Chatwoot message id (stored as `1:<id>`), and its conversation.
    const messages = db
      .prepare(
        `select m.id, m.external_id as externalId, c.external_id as conversation
           from messages m join conversations c on c.id = m.conversation_id
          where m.channel = 'chatwoot' and m.id > ?`,
      )
      .all(firstMeasured) as { id: number; externalId: string; conversation: string }[]
    const chatwootId = new Map(messages.map((m) => [m.id, Number(m.externalId.split(':')[1])]))
    const lastCall = new Map<number, number>()
    for (const call of report.calls ?? []) {
      const hubId = /^msg:(\d+):/.exec(call.key ?? '')?.[1]
      if (hubId === undefined) continue
      const id = Number(hubId)
      lastCall.set(id, Math.max(lastCall.get(id) ?? 0, call.at))
    }
    const latencies: number[] = []
    for (const [hubId, at] of lastCall) {
      const sentAtMs = sentAt.get(chatwootId.get(hubId) ?? -1)
      if (sentAtMs !== undefined) latencies.push(at - sentAtMs)
    }
    latencies.sort((a, b) => a - b)
    const q = (p: number) => quantile(latencies, p)
    // Calls per message, for each conversation's first message and for the ones after. A
    // conversation's calls run in order, so its first message's are those up to its last
    // keyed call (note or reply); the team and member lists belong to no conversation.
    const calls = (report.calls ?? []).filter((call) => call.at >= started)
    const firstOf = new Map<number, number>()
    for (const m of messages) {
      const conversation = Number(m.conversation.split(':')[1])
      firstOf.set(conversation, Math.min(firstOf.get(conversation) ?? m.id, m.id))
    }
    const byConversation = new Map<number, { path: string; key: string | null }[]>()
    for (const call of calls) {
      const conversation = /\/conversations\/(\d+)/.exec(call.path)?.[1]
      if (conversation === undefined) continue
      const list = byConversation.get(Number(conversation)) ?? []
      list.push(call)
      byConversation.set(Number(conversation), list)
    }
    let firstCalls = 0
    let conversationCalls = 0
    for (const [conversation, list] of byConversation) {
      conversationCalls += list.length
      const first = `msg:${firstOf.get(conversation)}:`
      let last = -1
      list.forEach((call, i) => {
        if (call.key?.startsWith(first)) last = i
      })
      firstCalls += last + 1
    }
    const conversations = firstOf.size
    return {
      rate: options.rate,
      seconds: options.seconds,
      latencyMs: options.latencyMs,
      perMinute: options.perMinute,
      sent: options.rate * options.seconds,
      answers,
      actionsPerSecond: Math.round(done.n / ((done.last - started) / 1000)),
      callsPerMessage: round(calls.length / messages.length),
      callsFirst: round(firstCalls / Math.max(1, conversations)),
      callsLater: round(
        (conversationCalls - firstCalls) / Math.max(1, messages.length - conversations),
      ),
      p50: q(0.5),
      p99: q(0.99),
      throttled: report.throttled ?? 0,
      violations: report.violations ?? 0,
      hubCpuPerMessage,
      chatwootCpuPerMessage,
    }
  } finally {
    db.close()
    side.kill('SIGTERM')
    hub.child.kill('SIGTERM')
    await hub.exited
    if (!process.env.BENCH_KEEP) temp.cleanup()
    else process.stderr.write(`kept ${dbPath}\n`)
  }
}

const round = (n: number) => Math.round(n * 100) / 100
