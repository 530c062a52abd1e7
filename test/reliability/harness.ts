import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'vitest'
import { openPostgres } from '../../src/store/postgres.js'
import { sqliteSql } from '../../src/store/sqlite.js'
import { triageBacklog } from '../../src/store/triage-queue.js'
import { startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { startFakeGraph } from '../fakes/graph-server.js'
import { startSmtpSink } from '../fakes/smtp-sink.js'
import { deliver, payloads } from '../helpers/deliveries.js'
import { RULES_DIR } from '../helpers/hub.js'
import { alive, endOf, type ServeProcess } from '../helpers/process.js'
import { channelEnv } from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

// Shared by the reliability suites: sizes bounded by the environment (CI runs the defaults,
// `npm run test:reliability` runs larger ones), the upstream fakes, a fully configured hub's
// environment, a mixed stream of signed deliveries with re-sent duplicates, and checks.

export const SIZES = {
  messages: Number(process.env.RELIABILITY_MESSAGES ?? 1500),
  kills: Number(process.env.RELIABILITY_KILLS ?? 3),
  fuzzRuns: Number(process.env.FUZZ_RUNS ?? 150),
}

export async function startReliabilityUpstreams() {
  // Agents online in a few teams, so conversations are also handed out in turn (round-robin).
  const agents = (team: number) =>
    [1, 2, 3].map((n) => ({
      id: team * 10 + n,
      name: `Agente ${team}-${n}`,
      availability_status: 'online' as const,
    }))
  const [chatwoot, graph, sink] = await Promise.all([
    startFakeChatwoot({ members: { 1: agents(1), 2: agents(2), 5: agents(5) } }),
    startFakeGraph(),
    startSmtpSink(),
  ])
  return {
    chatwoot,
    graph,
    sink,
    close: () => Promise.all([chatwoot.close(), graph.close(), sink.close()]),
  }
}
export type ReliabilityUpstreams = Awaited<ReturnType<typeof startReliabilityUpstreams>>

/** `centralita serve`'s environment: every channel on, upstreams on loopback. */
export function hubEnv(up: ReliabilityUpstreams, dir: string): Record<string, string> {
  return {
    DATABASE_URL: `file:${join(dir, 'centralita.db')}`,
    RULES_DIR,
    LOG_LEVEL: 'warn',
    // The load comes from one address: the per-source limit is not under test here.
    WEBHOOK_RATE_LIMIT: '1000000',
    // The fakes share the test's process with the sender: give them time before a call is
    // declared lost (a call given up on may still land, and its retry would repeat it).
    OUTBOUND_TIMEOUT_MS: '5000',
    OUTBOX_LEASE_MS: '15000',
    OUTBOX_RETRY_BASE_MS: '500',
    ...channelEnv(up),
  }
}

const TEXTS = [
  '¿Cuál es el horario de atención?',
  'Hola, quisiera una cotización para 20 sillas de oficina',
  'Me cobraron dos veces la misma compra',
  'El producto llegó roto y nadie me responde, pésimo servicio',
  'Los voy a demandar si no me devuelven el dinero',
  'No puedo iniciar sesión en la aplicación, me da error',
  'Sería bueno que tuvieran despacho los domingos',
  'What are your opening hours?',
  'I want to buy the premium plan for my team',
  'The payment failed but the money was taken from my card',
  '¿Hacen envíos a regiones?',
  'quiero comprar 3 unidades del modelo nuevo',
  'holaaa xq no me llega el pedido?? porfa ayuda',
  'The technician never showed up and I took the day off',
  'Necesito factura a nombre de mi empresa',
]

export type Delivery = {
  /** The message's identity: each unique delivery stores exactly one message. */
  id: string
  channel: string
  send: (base: string) => Promise<Response>
}

/**
 * `count` unique messages spread over every inbound channel, plus 10% re-sent duplicates:
 * half of them sent at the same moment as their original, half later in the stream.
 */
export function mixedTraffic(
  count: number,
  runId = 'r',
): {
  unique: Delivery[]
  stream: Delivery[][]
} {
  const unique: Delivery[] = []
  for (let i = 0; i < count; i++) {
    const text = `${TEXTS[i % TEXTS.length]!} (${runId}-${i})`
    const kind = i % 5
    const phone = `569${String(10_000_000 + (i % 400)).padStart(8, '0')}`
    if (kind === 0) {
      const id = `${runId}-cw-${i}`
      unique.push({
        id,
        channel: 'chatwoot',
        send: (base) =>
          deliver(base).chatwoot(
            payloads.chatwoot(1_000_000 + i, 20_000 + Math.floor(i / 3), text, {
              id: 5000 + (i % 300),
              name: 'Cliente',
            }),
            id,
          ),
      })
    } else if (kind === 1) {
      const wamid = `wamid.${runId}${String(i).padStart(8, '0')}`
      unique.push({
        id: wamid,
        channel: 'whatsapp',
        send: (base) =>
          deliver(base).whatsapp(payloads.whatsapp(wamid, phone, 'Cliente', text, new Date())),
      })
    } else if (kind === 2) {
      const id = `${runId}-tawk-${i}`
      unique.push({
        id,
        channel: 'tawkto',
        send: (base) =>
          deliver(base).tawk(
            payloads.tawkChat(`chat-${runId}-${i}`, text, {
              name: 'Visitante',
              email: `visitante${i % 200}@cliente.example`,
            }),
            id,
          ),
      })
    } else if (kind === 3) {
      const id = `${runId}-int-${i}`
      unique.push({
        id,
        channel: 'internal',
        send: (base) =>
          deliver(base).internal(
            payloads.internal(id, { id: `u${i % 250}`, role: 'cliente', name: 'Cliente' }, text),
            `msg_${id}`,
          ),
      })
    } else {
      const id = `${runId}-mail-${i}@cliente.example`
      unique.push({
        id,
        channel: 'email',
        send: (base) =>
          deliver(base).email(
            payloads.email(id, `Cliente <cliente${i % 200}@cliente.example>`, 'Consulta', text),
          ),
      })
    }
  }
  // Every tenth message is delivered twice: together (a sender's concurrent retry) or later.
  const stream: Delivery[][] = unique.map((d, i) => (i % 20 === 0 ? [d, d] : [d]))
  for (let i = 10; i < unique.length; i += 20) {
    stream.splice(Math.min(stream.length, i + 37), 0, [unique[i]!])
  }
  return { unique, stream }
}

export type SendReport = { statuses: Map<number, number>; requests: number; failures: number }

/**
 * Sends the stream with `concurrency` requests in flight. With `untilAcknowledged`, a request
 * that fails (connection refused while the hub restarts, 5xx, 429) is retried until it gets
 * its 200: a sender's retry policy. Duplicates in a group go out at the same moment.
 */
export async function sendStream(
  base: string,
  stream: Delivery[][],
  options: { concurrency: number; untilAcknowledged?: boolean; deadlineMs?: number },
): Promise<SendReport> {
  const statuses = new Map<number, number>()
  let requests = 0
  let failures = 0
  const deadline = Date.now() + (options.deadlineMs ?? 120_000)
  const once = async (d: Delivery) => {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`gave up on ${d.id}: deadline passed`)
      requests++
      let status = 0
      try {
        const res = await d.send(base)
        await res.arrayBuffer()
        status = res.status
      } catch {
        failures++
      }
      if (status !== 0) statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status === 200 || !options.untilAcknowledged) return
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  let next = 0
  const worker = async () => {
    while (next < stream.length) {
      const group = stream[next++]!
      await Promise.all(group.map(once))
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return { statuses, requests, failures }
}

/**
 * Read-only figures from the hub's database (a SQLite file, read alongside the running hub in
 * WAL mode, or a PostgreSQL URL), through the same `Sql` door the hub uses.
 */
export async function dbFigures(database: string) {
  const postgres = /^postgres(ql)?:/.test(database)
  const sqlite = postgres ? null : new Database(database, { readonly: true })
  const pg = postgres ? openPostgres(database, { max: 1 }) : null
  const sql = pg ? pg.sql : sqliteSql(sqlite!)
  try {
    const one = async (text: string) => Number((await sql.get<{ n: number }>(text))?.n ?? 0)
    return {
      messages: await one(`select count(*) as n from messages where direction = 'inbound'`),
      triaged: await one('select count(*) as n from triage_decisions'),
      triagedDistinct: await one('select count(distinct message_id) as n from triage_decisions'),
      // Pairs of a conversation's messages decided in another order than they were stored
      // (decision ids grow as decisions are written). A retry after a failure comes later by
      // design: messages that had one are left out.
      triagedOutOfOrder: await one(
        `select count(*) as n from triage_decisions a
           join triage_decisions b on b.conversation_id = a.conversation_id
                                  and b.message_id > a.message_id and b.id < a.id
          where not exists (select 1 from jobs j where j.kind = 'triage'
                              and j.ref_id in (a.message_id, b.message_id))`,
      ),
      // Messages past the triage cursor and retries not given up (src/store/triage-queue.ts).
      triageBacklog: await triageBacklog(sql),
      triageGivenUp: await one(
        `select count(*) as n from jobs where kind = 'triage' and status = 'failed'`,
      ),
      // Effects that can still run: not dead, nor waiting for one that is (those wait for a
      // replay, and `outboxDead` reports them).
      outboxOpen: await one(
        `select count(*) as n from outbox o left join outbox p on p.idempotency_key = o.after_key
         where o.status = 'in_flight' or (o.status = 'pending' and coalesce(p.status, '') != 'dead')`,
      ),
      outboxDead: await one(`select count(*) as n from outbox where status = 'dead'`),
      // What a dead letter was and why, so a failing run names it.
      deadEffects: await sql.all<{
        kind: string
        subject: string
        attempts: number
        lastError: string | null
      }>(
        `select kind, subject, attempts, last_error as "lastError" from outbox
          where status = 'dead' limit 5`,
      ),
      outboxDone: await one(`select count(*) as n from outbox where status = 'done'`),
      externalIds: (
        await sql.all<{ external_id: string }>(
          `select external_id from messages where direction = 'inbound'`,
        )
      ).map((r) => r.external_id),
    }
  } finally {
    sqlite?.close()
    await pg?.close()
  }
}

/** What the upstream fakes received more than once: the duplicates a person would see. */
export function upstreamDuplicates(up: ReliabilityUpstreams) {
  const repeated = (keys: string[]) => {
    const seen = new Map<string, number>()
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1)
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k)
  }
  const chatwootKeys = [...up.chatwoot.messages.values()].flatMap((list) =>
    list.flatMap((m) => {
      const key = (m.content_attributes as { centralita?: { key?: string } } | undefined)
        ?.centralita?.key
      return key ? [key] : []
    }),
  )
  // A hub conversation mirrored twice would show the customer twice in the admins' inbox.
  const mirrorOf = [...up.chatwoot.conversations.values()].flatMap((c) => {
    const of = c.custom_attributes.centralita_conversation
    return of === undefined ? [] : [String(of)]
  })
  // A conversation taken from its agent and given to another of the same team: a retry that
  // took a new turn, or a follow-up message that moved it.
  const agentAssignments = up.chatwoot.requests.filter(
    (r) =>
      r.path.endsWith('/assignments') &&
      (r.body as { assignee_id?: number } | undefined)?.assignee_id !== undefined,
  ).length
  return {
    chatwoot: repeated(chatwootKeys),
    mirrors: repeated(mirrorOf),
    reassigned: [...up.chatwoot.reassigned],
    whatsapp: repeated(up.graph.sent.flatMap((m) => (m.callbackKey ? [m.callbackKey] : []))),
    email: repeated(up.sink.received.map((m) => m.header('message-id') ?? '')),
    sent: {
      chatwoot: chatwootKeys.length,
      mirrors: mirrorOf.length,
      agentAssignments,
      whatsapp: up.graph.sent.length,
      email: up.sink.received.length,
    },
  }
}

/**
 * Waits until the hub has settled, then checks every one of `unique` was stored once, triaged
 * once, and acted on with nothing in the dead letter. `hub` is the process doing the work: if
 * it dies, or the wait times out, the error carries the end of its log (the hub logs failures
 * at warn and above).
 */
export async function expectEachProcessedOnce(
  dbPath: string,
  unique: readonly Delivery[],
  hub?: ServeProcess,
) {
  let last: Omit<Awaited<ReturnType<typeof dbFigures>>, 'externalIds'> | null = null
  const hubLog = () => (hub ? `; hub log: ${hub.output().slice(-3000) || '(empty)'}` : '')
  try {
    await waitFor(
      async () => {
        if (hub && !alive(hub.child)) throw new Error(`the hub ${endOf(hub.child)}`)
        const { externalIds: _, ...f } = await dbFigures(dbPath)
        last = f
        // Settled: every stored message triaged or given up on, nothing waiting in the queue or
        // the outbox. A lost message (fewer stored), a duplicate (more) or a given-up triage then
        // fails on its own assertion below instead of waiting out the timeout.
        return (
          f.messages >= unique.length &&
          f.triaged + f.triageGivenUp >= f.messages &&
          f.triageBacklog === 0 &&
          f.outboxOpen === 0
        )
      },
      { timeoutMs: 240_000, intervalMs: 250, what: 'every message triaged and acted on' },
    )
  } catch (error) {
    // Say where it stopped: triage (and its backlog) or the outbox.
    throw new Error(
      `${(error as Error).message}; ${unique.length} messages, last seen ${JSON.stringify(last)}${hubLog()}`,
    )
  }
  const figures = await dbFigures(dbPath)
  expect(figures.messages).toBe(unique.length)
  expect(figures.triageGivenUp).toBe(0)
  expect(figures.triaged).toBe(unique.length)
  expect(new Set(figures.externalIds).size).toBe(unique.length)
  expect(figures.triagedDistinct).toBe(unique.length)
  expect(figures.triagedOutOfOrder).toBe(0)
  expect(figures.outboxDead, `dead letters: ${JSON.stringify(figures.deadEffects)}`).toBe(0)
  expect(figures.outboxDone).toBeGreaterThan(0)
}
