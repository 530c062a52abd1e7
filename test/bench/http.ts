import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR, tempDir } from '../helpers/hub.js'
import { freePort, startServe } from '../helpers/process.js'
import { chatwootHeaders } from '../helpers/sign.js'

// The webhook path under load: `centralita serve` (its own process, SQLite in a temporary
// directory, the shipped rulebook) takes signed Chatwoot deliveries, each a new message, from
// autocannon in this process. Figures: acknowledgements per second and their latency, messages
// per second end to end (acknowledged, triaged and their actions queued), latency at a steady
// 1,000 requests per second, peak memory, and the same load against a bare express endpoint.

export type Run = {
  requests: number
  perSecond: number
  p50: number
  p99: number
  non2xx: number
  /** Answers by HTTP status (`error` for a request that got none), where counted. */
  statuses?: Record<string, number>
  /** Every answered request's latency (ms), in order, where kept (paced runs). */
  latencies?: number[]
}

/** The latency at quantile `q` of latencies sorted in ascending order (ms, rounded). */
export const quantile = (sorted: readonly number[], q: number) =>
  Math.round(sorted[Math.floor(q * (sorted.length - 1))] ?? 0)

const TEXTS = [
  'Me cobraron dos veces la misma compra',
  '¿Cuál es el horario de atención?',
  'Quisiera una cotización para 20 sillas',
  'El pedido llegó roto, pésimo servicio',
  'What are your opening hours?',
  'I want to buy the premium plan',
]

let sequence = 0
/** A new signed delivery per request: a new message in one of 500 conversations. */
export function nextDelivery(): { body: string; headers: Record<string, string> } {
  const i = ++sequence
  const body = JSON.stringify(
    payloads.chatwoot(i, 40_000 + (i % 500), `${TEXTS[i % TEXTS.length]} (${i})`, {
      id: 9000 + (i % 500),
      name: 'Cliente',
    }),
  )
  return { body, headers: chatwootHeaders(body, SECRETS.chatwoot, { delivery: `bench-${i}` }) }
}

export function load(url: string, options: { amount: number; connections: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    // autocannon notices the last answer of a fixed amount only at its next one-second sample,
    // so its own duration is rounded up to whole seconds (10,000 requests in 3.2 s read as
    // 10,000 / 4.01). Time from the start to the last answer instead.
    const started = performance.now()
    let lastAnswer = started
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: options.connections,
        pipelining: 1,
        amount: options.amount,
        requests: [
          {
            setupRequest: (req) => {
              const { body, headers } = nextDelivery()
              return { ...req, method: 'POST', body, headers }
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err)
        const seconds = (lastAnswer - started) / 1000
        resolve({
          requests: result.requests.total,
          perSecond: Math.round(result.requests.total / (seconds || 1)),
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx + result.errors + result.timeouts,
        })
      },
    )
    instance.on('response', () => {
      lastAnswer = performance.now()
    })
  })
}

/**
 * An open-loop load at a steady rate: request i is due at start + i / rate, whatever happened
 * to the ones before, and its latency counts from that moment (so a stalled server is charged
 * for the requests it kept waiting, not only for the ones it answered).
 *
 * autocannon's `overallRate` is not this: each connection sends its share of a second's
 * requests back to back when the second starts, then waits for the next one
 * (`lib/httpClient.js`, `reqsMadeThisSecond`). At 1,000 req/s over 32 connections that is a
 * full-speed burst every second, and its latency is the latency of a burst: a bare express
 * endpoint measured p99 16–85 ms that way.
 */
export function paced(
  url: string,
  options: { rate: number; seconds: number; connections: number },
  /** The i-th delivery (a new Chatwoot message by default). */
  next: (i: number) => { body: string; headers: Record<string, string> } = nextDelivery,
): Promise<Run> {
  const target = new URL(url)
  // Each free connection in turn (Node's agent reuses the last one freed by default): one left
  // idle for the hub's keep-alive timeout (5 s) is closed by the hub, and a request sent on it
  // as it closes is reset, a failure of the client's making (twice in a dozen runs, before).
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, scheduling: 'fifo' })
  const total = options.rate * options.seconds
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let failed = 0
  let sent = 0
  let answered = 0
  return new Promise((resolve) => {
    const started = performance.now()
    const send = (due: number, i: number) => {
      const { body, headers } = next(i)
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => answer(String(res.statusCode ?? 0)))
          res.on('error', () => answer('error'))
        },
      )
      req.on('error', () => answer('error'))
      // Each request is counted once, however it ends (an answer, a reset, both).
      let counted = false
      const answer = (status: string) => {
        if (counted) return
        counted = true
        statuses[status] = (statuses[status] ?? 0) + 1
        const ok = status.startsWith('2')
        if (ok) latencies.push(performance.now() - due)
        else failed++
        finish()
      }
      req.end(body)
    }
    const finish = () => {
      if (++answered < total) return
      clearInterval(timer)
      agent.destroy()
      latencies.sort((a, b) => a - b)
      const at = (q: number) => quantile(latencies, q)
      const seconds = (performance.now() - started) / 1000
      resolve({
        requests: answered,
        perSecond: Math.round(answered / seconds),
        p50: at(0.5),
        p99: at(0.99),
        non2xx: failed,
        statuses,
        latencies,
      })
    }
    // Timers fire about once a millisecond at best: each tick sends every request now due.
    const timer = setInterval(() => {
      const now = performance.now()
      while (sent < total && started + (sent * 1000) / options.rate <= now) {
        send(started + (sent * 1000) / options.rate, sent)
        sent++
      }
    }, 1)
  })
}

/** CPU time a process has used so far (user and system), in microseconds. */
export function cpuMicros(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, after the command name in parentheses, in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
}

/** Peak resident memory of a process, in MB (VmHWM). */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}

async function untilTriaged(dbPath: string, total: number, timeoutMs = 600_000) {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  const count = db.prepare('select count(*) as n from triage_decisions')
  try {
    const deadline = Date.now() + timeoutMs
    while ((count.get() as { n: number }).n < total) {
      if (Date.now() > deadline) throw new Error('triage did not finish in time')
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    db.close()
  }
}

/** The bare express endpoint of `bare-express.ts`, in its own process like the hub. */
async function bareExpress() {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'bare-express.ts'), String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare endpoint exited with ${code}`)))
    child.stdout?.once('data', () => resolve())
  })
  return { url: `http://127.0.0.1:${port}/webhooks/chatwoot`, close: () => child.kill('SIGTERM') }
}

export async function benchHttp(options: { messages: number }) {
  const temp = tempDir('centralita-bench-')
  const dbPath = join(temp.dir, 'centralita.db')
  // BENCH_BUILD: another checkout, built, whose hub to run under this same load (to compare
  // two builds alternately in one sitting: `BENCH_BUILD=/tmp/before npm run bench http`).
  const root = process.env.BENCH_BUILD
  const hub = await startServe(
    {
      DATABASE_URL: `file:${dbPath}`,
      RULES_DIR: root ? join(root, 'rules') : RULES_DIR,
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      WEBHOOK_RATE_LIMIT: '1000000',
      MAX_PENDING_TRIAGE: '1000000',
      // The heap bounds `npm start` and the Docker image run with.
      NODE_OPTIONS:
        process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=8',
    },
    {
      timeoutMs: 60_000,
      nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
      ...(root ? { root } : {}),
    },
  )
  const { child, base } = hub
  try {
    const url = `${base}/webhooks/chatwoot`
    // Warm-up (JIT, statement cache), not counted.
    await load(url, { amount: 500, connections: 8 })
    await untilTriaged(dbPath, 500)

    const started = performance.now()
    const cpuBefore = cpuMicros(child.pid!)
    const burst = await load(url, { amount: options.messages, connections: 32 })
    await untilTriaged(dbPath, 500 + options.messages)
    const endToEnd = Math.round(options.messages / ((performance.now() - started) / 1000))
    // The hub's own work per message (HTTP, storage, triage, planning), whatever the VM's speed
    // left for it: steadier than a rate from one run to the next.
    const cpuPerMessage = Math.round((cpuMicros(child.pid!) - cpuBefore) / options.messages)

    const steady = await paced(url, { rate: 1000, seconds: 10, connections: 32 })
    // A request that failed (a reset connection: counted in non-2xx) stored nothing to wait for.
    await untilTriaged(dbPath, 500 + options.messages + steady.requests - steady.non2xx)
    const rss = peakRss(child.pid!)

    const bare = await bareExpress()
    try {
      await load(bare.url, { amount: 2000, connections: 32 })
      const bareRun = await load(bare.url, { amount: options.messages, connections: 32 })
      const bareSteady = await paced(bare.url, { rate: 1000, seconds: 10, connections: 32 })
      return { burst, endToEnd, cpuPerMessage, steady, rss, bare: bareRun, bareSteady }
    } finally {
      bare.close()
    }
  } finally {
    child.kill('SIGTERM')
    await hub.exited
    temp.cleanup()
  }
}
