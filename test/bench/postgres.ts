import { copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openPostgres } from '../../src/store/postgres.js'
import { SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR } from '../helpers/hub.js'
import { startPostgres } from '../helpers/postgres.js'
import { type ServeProcess, startServe } from '../helpers/process.js'
import { cpuMicros, load, paced, quantile, type Run } from './http.js'
import { watchHubs } from './process-detail.js'

// The webhook path on PostgreSQL: one `centralita serve`, and two on the same database, each
// under the same load as the SQLite bench (split between the instances), with the database on
// this machine too, in rounds (`benchPostgres`). Figures: acknowledgements, end to end, latency
// at a steady 500 req/s, and where the CPU time went (the hubs' processes against
// PostgreSQL's); over the rounds, the targets (`postgresSummary`).

export type PostgresRun = {
  /** Which round (from 1): rounds alternate one instance and two (`BENCH_PG_ROUNDS`). */
  round: number
  instances: number
  burst: Run
  endToEnd: number
  steady: Run
  hubCpuPerMessage: number
  databaseCpuPerMessage: number
  steadyHubCpuPerMessage: number
  steadyDatabaseCpuPerMessage: number
  /** At the steady pace, the p99 of the instance whose senders waited longest (ms). */
  worstInstanceP99: number
  /** At the steady pace, from a message's receipt to its decision (ms). */
  steadyDecided: { p50: number; p99: number }
}

/** CPU time of the PostgreSQL server: its postmaster, live backends, and those that exited. */
function databaseCpu(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const pid = Number(entry)
      const parent = Number(fields[1])
      if (pid !== postmaster && parent !== postmaster) continue
      // utime, stime; for the postmaster also its exited children's (cutime, cstime).
      const ticks = fields
        .slice(11, pid === postmaster ? 15 : 13)
        .reduce((n, f) => n + Number(f), 0)
      total += (ticks * 1_000_000) / 100
    } catch {
      // A process that ended while being read.
    }
  }
  return total
}

/** The newest triage decision so far (0 when none): where the next phase's count begins. */
async function lastDecision(url: string): Promise<number> {
  const pg = openPostgres(url, { max: 1 })
  try {
    const row = await pg.sql.get<{ id: string | null }>(
      'select max(id) as id from triage_decisions',
    )
    return Number(row?.id ?? 0)
  } finally {
    await pg.close()
  }
}

/** Waits until `total` messages are decided after decision `after` (`lastDecision`). */
async function untilTriaged(url: string, total: number, after = 0, timeoutMs = 600_000) {
  const pg = openPostgres(url, { max: 1 })
  try {
    const deadline = Date.now() + timeoutMs
    let last = { decided: 0, at: performance.now() }
    for (;;) {
      const row = await pg.sql.get<{ n: number }>(
        'select count(*) as n from triage_decisions where id > ?',
        [after],
      )
      const decided = Number(row?.n)
      if (decided >= total) return
      if (Date.now() > deadline) throw new Error('triage did not finish in time')
      // A count reads every decision of the phase (4–19 ms for 10,000, within the measured
      // phase): looked at again in half the time the pace so far leaves, at least every
      // second and at most ten times a second (the figures' resolution at the end).
      const now = performance.now()
      const pace = (decided - last.decided) / (now - last.at)
      last = { decided, at: now }
      const left = pace > 0 ? (total - decided) / pace : 1_000
      await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(100, left / 2))))
    }
  } finally {
    await pg.close()
  }
}

/** The same load split over several instances, at once: one figure for them all. */
async function spread(urls: string[], amount: number, connections: number): Promise<Run> {
  const runs = await Promise.all(
    urls.map((url) =>
      load(url, { amount: amount / urls.length, connections: connections / urls.length }),
    ),
  )
  const requests = runs.reduce((n, r) => n + r.requests, 0)
  const seconds = Math.max(...runs.map((r) => r.requests / r.perSecond))
  return {
    requests,
    perSecond: Math.round(requests / seconds),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
  }
}

async function analyze(url: string) {
  const pg = openPostgres(url, { max: 1 })
  try {
    await pg.sql.run('analyze')
  } finally {
    await pg.close()
  }
}

/** The last message stored so far (0 when none). */
async function lastMessage(url: string): Promise<number> {
  const pg = openPostgres(url, { max: 1 })
  try {
    return Number(
      (await pg.sql.get<{ id: string | null }>('select max(id) as id from messages'))?.id ?? 0,
    )
  } finally {
    await pg.close()
  }
}

/** How long after its receipt each message past `after` was decided: p50 and p99 (ms). */
async function decidedAfter(url: string, after: number) {
  const pg = openPostgres(url, { max: 1 })
  try {
    const row = await pg.sql.get<{ p50: number; p99: number }>(
      `select percentile_disc(0.5) within group (order by d.created_at - m.received_at) as p50,
              percentile_disc(0.99) within group (order by d.created_at - m.received_at) as p99
         from messages m join triage_decisions d on d.message_id = m.id where m.id > ?`,
      [after],
    )
    return { p50: Number(row?.p50), p99: Number(row?.p99) }
  } finally {
    await pg.close()
  }
}

async function resetStatements(url: string) {
  const pg = openPostgres(url, { max: 1 })
  try {
    await pg.sql.run('create extension if not exists pg_stat_statements')
    await pg.sql.run('select pg_stat_statements_reset()')
  } finally {
    await pg.close()
  }
}

async function printStatements(url: string, messages?: number) {
  const pg = openPostgres(url, { max: 1 })
  try {
    await pg.sql.run('create extension if not exists pg_stat_statements')
    // This run's database only (the cluster holds one database per run).
    const mine = 'dbid = (select oid from pg_database where datname = current_database())'
    const rows = await pg.sql.all<{
      query: string
      calls: number
      total: number
      mean: number
      plans: number
      planning: number
      rows: number
    }>(
      `select query, calls, total_exec_time as total, mean_exec_time as mean, plans,
              total_plan_time as planning, rows
         from pg_stat_statements where ${mine}
        order by ${['calls', 'steady', 'burst'].includes(process.env.BENCH_PG_STATS ?? '') ? 'calls' : 'total_exec_time'} desc limit 40`,
    )
    for (const r of rows)
      process.stderr.write(
        `${Math.round(r.total)} ms  ${r.calls} calls  ${(r.mean * 1000).toFixed(0)} µs  planned ${r.plans} times, ${Math.round(r.planning)} ms  ${r.rows} rows  ${r.query.replace(/\s+/g, ' ').slice(0, 140)}\n`,
      )
    const all = await pg.sql.get<{ calls: number; messages: number }>(
      `select (select sum(calls) from pg_stat_statements where ${mine}) as calls,
              (select count(*) from triage_decisions) as messages`,
    )
    const analysed = await pg.sql.all<{ t: string; n: number; auto: number }>(
      `select relname as t, analyze_count as n, autoanalyze_count as auto from pg_stat_user_tables
        where analyze_count + autoanalyze_count > 0 order by relname`,
    )
    process.stderr.write(
      `tables analysed (by the hubs, by autovacuum): ${analysed.map((a) => `${a.t} ${a.n}/${a.auto}`).join(', ')}\n`,
    )
    process.stderr.write(
      `statements a triaged message: ${(Number(all?.calls) / (messages ?? Number(all?.messages))).toFixed(2)}\n`,
    )
  } finally {
    await pg.close()
  }
}

/**
 * The hubs' TRIAGE_LANES: one instance runs with its default (two), and each of several on
 * this machine with one, as the README advises where instances and the database share a small
 * machine (docs/performance.md has both measured). `BENCH_TRIAGE_LANES` sets it for all, or
 * `2,1` for one instance and then for two.
 */
function lanesFor(instances: number): { TRIAGE_LANES?: string } {
  const lanes = process.env.BENCH_TRIAGE_LANES?.split(',') ?? ['', '1']
  const these = lanes[Math.min(instances, lanes.length) - 1]
  return these ? { TRIAGE_LANES: these } : {}
}

export async function benchPostgres(options: {
  messages: number
  /** Rounds of one instance then two, alternating in one sitting. */
  rounds: number
}): Promise<PostgresRun[]> {
  const postgres = await startPostgres(
    // BENCH_PG_STATS: the statements that took the database's time, from pg_stat_statements
    // (`BENCH_PG_STATS=calls`: the most frequent ones, to count round trips a message).
    [
      ...(process.env.BENCH_PG_STATS
        ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track_planning=on']
        : []),
      // BENCH_PG_SETTINGS: more of the server's settings, space-separated (e.g. auto_explain's,
      // with BENCH_PG_LOG naming a file to keep the server's log in).
      ...(process.env.BENCH_PG_SETTINGS?.split(' ').filter(Boolean) ?? []),
    ],
  )
  const results: PostgresRun[] = []
  // BENCH_BUILD: another checkout, built, whose hubs to run under this same load (as in the
  // SQLite bench: to compare two builds alternately in one sitting).
  const root = process.env.BENCH_BUILD
  // Each round runs one instance and two, each on a new database of the same cluster: the
  // machine's speed drifts from minute to minute, and the two runs of a round see about the
  // same drift. Every other round runs two instances first, so that neither goes first always.
  const runs = Array.from({ length: options.rounds }, (_, r) =>
    (r % 2 === 0 ? [1, 2] : [2, 1]).map((instances) => ({ round: r + 1, instances })),
  ).flat()
  try {
    for (const { round, instances } of runs) {
      // BENCH_PG_SOCKET=1: the hubs reach the server through its Unix socket, not TCP.
      const url = process.env.BENCH_PG_SOCKET
        ? postgres.socketUrl(postgres.database())
        : postgres.database()
      const env = {
        DATABASE_URL: url,
        RULES_DIR: root ? join(root, 'rules') : RULES_DIR,
        CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
        WEBHOOK_RATE_LIMIT: '1000000',
        MAX_PENDING_TRIAGE: '1000000',
        ...lanesFor(instances),
        NODE_OPTIONS:
          process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=8',
      }
      const hubs: ServeProcess[] = []
      try {
        for (let i = 0; i < instances; i++)
          hubs.push(
            await startServe(
              { ...env, INSTANCE_ID: `bench-${i}` },
              {
                timeoutMs: 60_000,
                ...(root ? { root } : {}),
                // BENCH_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the hubs.
                nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean),
              },
            ),
          )
        const urls = hubs.map((h) => `${h.base}/webhooks/chatwoot`)
        // Each instance is warmed up alike, before anything is measured: until a few thousand
        // messages in, a hub spends a sixth of its CPU time compiling its hot code (V8's
        // optimizing compiler), and with one warm-up split between them, two instances paid
        // that twice within the measured burst (`BENCH_PG_DETAIL`, docs/performance.md).
        const warmup = Number(process.env.BENCH_PG_WARMUP ?? 3_000) * instances
        await spread(urls, warmup, 8)
        await untilTriaged(url, warmup)
        // Statistics of the warm-up's tables, as the hub's own loop takes them within 10 s
        // (`keepStatisticsFresh`): every run starts from the same plans, not from those of
        // an empty database or not depending on where that loop stood when the burst began.
        await analyze(url)

        // `BENCH_PG_STATS=burst`: the statements of the burst alone.
        if (process.env.BENCH_PG_STATS === 'burst') await resetStatements(url)
        const hubCpu = () => hubs.reduce((n, h) => n + cpuMicros(h.child.pid!), 0)
        const decidedBefore = await lastDecision(url)
        const started = performance.now()
        const cpuBefore = { hubs: hubCpu(), database: databaseCpu(postgres.dataDir) }
        const named = `${options.rounds > 1 ? `round ${round}, ` : ''}${instances} instance${instances > 1 ? 's' : ''}' hubs`
        const watch = (phase: string) =>
          process.env.BENCH_PG_DETAIL
            ? watchHubs(
                hubs.map((h) => ({ pid: h.child.pid!, base: h.base })),
                `${named} ${phase}`,
                process.env.BENCH_PG_PERF &&
                  join(
                    process.env.BENCH_PG_PERF,
                    `${round}-${instances}-${phase.split(' ').pop()}.data`,
                  ),
              )
            : null
        const watched = await watch('over the burst')
        const burst = await spread(urls, options.messages, 32)
        await untilTriaged(url, options.messages, decidedBefore)
        await watched?.end(options.messages)
        const endToEnd = Math.round(options.messages / ((performance.now() - started) / 1000))
        const perMessage = (micros: number) => Math.round(micros / options.messages)
        const hubCpuPerMessage = perMessage(hubCpu() - cpuBefore.hubs)
        const databaseCpuPerMessage = perMessage(databaseCpu(postgres.dataDir) - cpuBefore.database)
        if (process.env.BENCH_PG_STATS === 'burst') await printStatements(url, options.messages)

        // `BENCH_PG_STATS=steady`: the statements of the steady phase alone.
        if (process.env.BENCH_PG_STATS === 'steady') await resetStatements(url)
        const beforeSteady = await lastMessage(url)
        const decidedBeforeSteady = await lastDecision(url)
        const steadyCpu = { hubs: hubCpu(), database: databaseCpu(postgres.dataDir) }
        const watchedSteady = await watch('at a steady pace')
        const steadyRuns = await Promise.all(
          urls.map((u) =>
            paced(u, { rate: 500 / urls.length, seconds: 10, connections: 32 / urls.length }),
          ),
        )
        // Latencies over every request the instances answered together: what the senders saw
        // (and, apart, the instance whose senders fared worst).
        const latencies = steadyRuns.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b)
        const steady: Run = {
          requests: steadyRuns.reduce((n, r) => n + r.requests, 0),
          perSecond: steadyRuns.reduce((n, r) => n + r.perSecond, 0),
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          non2xx: steadyRuns.reduce((n, r) => n + r.non2xx, 0),
        }
        const worstInstanceP99 = Math.max(...steadyRuns.map((r) => r.p99))
        // Where the time goes at that pace: messages come a few at a time, and so do the hubs'
        // commits and triage slices, whose fixed costs the burst spreads over more messages.
        // (A request that failed stored nothing to wait for.)
        const answered = steady.requests - steady.non2xx
        await untilTriaged(url, answered, decidedBeforeSteady)
        await watchedSteady?.end(answered)
        const steadyHubCpuPerMessage = Math.round((hubCpu() - steadyCpu.hubs) / answered)
        const steadyDatabaseCpuPerMessage = Math.round(
          (databaseCpu(postgres.dataDir) - steadyCpu.database) / answered,
        )
        const steadyDecided = await decidedAfter(url, beforeSteady)
        if (process.env.BENCH_PG_STATS && process.env.BENCH_PG_STATS !== 'burst')
          await printStatements(url, process.env.BENCH_PG_STATS === 'steady' ? answered : undefined)
        results.push({
          round,
          instances,
          burst,
          endToEnd,
          steady,
          hubCpuPerMessage,
          databaseCpuPerMessage,
          steadyHubCpuPerMessage,
          steadyDatabaseCpuPerMessage,
          steadyDecided,
          worstInstanceP99,
        })
      } finally {
        for (const hub of hubs) {
          hub.child.kill('SIGTERM')
          await hub.exited
        }
      }
    }
  } finally {
    if (process.env.BENCH_PG_LOG) copyFileSync(postgres.logFile, process.env.BENCH_PG_LOG)
    if (process.env.BENCH_PG_KEEP) process.stderr.write(`kept: ${postgres.database()}\n`)
    else postgres.stop()
  }
  return results
}

/** The middle value (the mean of the middle two for an even count). */
function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const median = (values: readonly number[]) => Math.round(medianOf(values))

/**
 * The rounds' medians and the targets of the PostgreSQL work: one instance at 1,000 messages/s
 * end to end or more, two at or above one, and the p99 acknowledgement at 500 req/s under
 * 50 ms. Two instances are compared with one round by round (the median of the rounds' ratios:
 * the two runs of a round share the machine's drift, which the medians of each apart do not).
 */
export function postgresSummary(runs: readonly PostgresRun[], rounds: number): string[] {
  const one = runs.filter((r) => r.instances === 1)
  const two = runs.filter((r) => r.instances === 2)
  if (one.length === 0 || two.length === 0) return []
  const figures = (of: readonly PostgresRun[]) => ({
    endToEnd: median(of.map((r) => r.endToEnd)),
    p99: median(of.map((r) => r.steady.p99)),
  })
  const [a, b] = [figures(one), figures(two)]
  const ratios = two.flatMap((t) => {
    const o = one.find((r) => r.round === t.round)
    return o ? [t.endToEnd / o.endToEnd] : []
  })
  const ratio = medianOf(ratios)
  const targets = [
    ['one instance ≥ 1,000 msg/s end to end', a.endToEnd >= 1_000],
    ['two instances ≥ one', ratio >= 1],
    [
      'p99 acknowledgement under 50 ms at 500 req/s, one and two instances',
      Math.max(a.p99, b.p99) < 50,
    ],
  ] as const
  const count = (n: number) => n.toLocaleString('en')
  return [
    `  medians of ${rounds} round${rounds > 1 ? 's' : ''}: one instance ${count(a.endToEnd)} msg/s end to end, p99 ${a.p99} ms at 500 req/s; two instances ${count(b.endToEnd)} msg/s, p99 ${b.p99} ms`,
    `  two instances against one end to end, round by round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${ratio.toFixed(2)}; at or above one in ${ratios.filter((r) => r >= 1).length} of ${ratios.length})`,
    `  targets: ${targets.map(([what, met]) => `${what}: ${met ? 'met' : 'NOT met'}`).join('; ')}`,
  ]
}
