import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import express from 'express'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR, tempDir } from '../helpers/hub.js'
import { freePort, startServe } from '../helpers/process.js'
import { chatwootHeaders } from '../helpers/sign.js'

// The webhook path under load: `centralita serve` (its own process, SQLite in a temporary
// directory, the shipped rulebook) takes signed Chatwoot deliveries, each a new message, from
// autocannon in this process. Figures: acknowledgements per second and their latency, messages
// per second end to end (acknowledged, triaged and their actions queued), latency at a steady
// 1,000 requests per second, peak memory, and the same load against a bare express endpoint.

type Run = { requests: number; perSecond: number; p50: number; p99: number; non2xx: number }

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
function nextDelivery(): { body: string; headers: Record<string, string> } {
  const i = ++sequence
  const body = JSON.stringify(
    payloads.chatwoot(i, 40_000 + (i % 500), `${TEXTS[i % TEXTS.length]} (${i})`, {
      id: 9000 + (i % 500),
      name: 'Cliente',
    }),
  )
  return { body, headers: chatwootHeaders(body, SECRETS.chatwoot, { delivery: `bench-${i}` }) }
}

function load(
  url: string,
  options: { amount?: number; duration?: number; rate?: number; connections: number },
): Promise<Run> {
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
        ...(options.amount ? { amount: options.amount } : {}),
        ...(options.duration ? { duration: options.duration } : {}),
        ...(options.rate ? { overallRate: options.rate } : {}),
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
        // A timed run (`duration`) ends on its timer, which autocannon measures right.
        const seconds = options.amount ? (lastAnswer - started) / 1000 : result.duration
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

/** A bare express endpoint doing the least a webhook must: read the body, answer 200. */
async function bareExpress() {
  const app = express()
  app.post('/webhooks/:channel', express.raw({ type: '*/*', limit: '1mb' }), (_req, res) => {
    res.json({ ok: true })
  })
  const server = createServer(app)
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${port}/webhooks/chatwoot`, close: () => server.close() }
}

export async function benchHttp(options: { messages: number }) {
  const temp = tempDir('centralita-bench-')
  const dbPath = join(temp.dir, 'centralita.db')
  const hub = await startServe(
    {
      DATABASE_URL: `file:${dbPath}`,
      RULES_DIR,
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      WEBHOOK_RATE_LIMIT: '1000000',
      MAX_PENDING_TRIAGE: '1000000',
      // The heap bounds `npm start` and the Docker image run with.
      NODE_OPTIONS:
        process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=8',
    },
    { timeoutMs: 60_000 },
  )
  const { child, base } = hub
  try {
    const url = `${base}/webhooks/chatwoot`
    // Warm-up (JIT, statement cache), not counted.
    await load(url, { amount: 500, connections: 8 })
    await untilTriaged(dbPath, 500)

    const started = performance.now()
    const burst = await load(url, { amount: options.messages, connections: 32 })
    await untilTriaged(dbPath, 500 + options.messages)
    const endToEnd = Math.round(options.messages / ((performance.now() - started) / 1000))

    const steady = await load(url, { duration: 10, rate: 1000, connections: 32 })
    await untilTriaged(dbPath, 500 + options.messages + steady.requests)
    const rss = peakRss(child.pid!)

    const bare = await bareExpress()
    try {
      await load(bare.url, { amount: 2000, connections: 32 })
      const bareRun = await load(bare.url, { amount: options.messages, connections: 32 })
      return { burst, endToEnd, steady, rss, bare: bareRun }
    } finally {
      bare.close()
    }
  } finally {
    child.kill('SIGTERM')
    await hub.exited
    temp.cleanup()
  }
}
