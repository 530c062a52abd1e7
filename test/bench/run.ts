import { servicePath } from '../helpers/services.js'
import { benchChatwoot } from './chatwoot.js'
import { benchClassify } from './classify.js'
import { benchHttp } from './http.js'
import { benchPostgres, postgresSummary } from './postgres.js'

// `npm run bench`: a benchmark, not a test. Prints its figures; nothing here can fail a build.
const which = process.argv[2] ?? 'all'
const out = (line: string) => process.stdout.write(`${line}\n`)

if (which === 'all' || which === 'classify') {
  const r = await benchClassify()
  out(
    `classification (one core, full triage): ${r.perSecond.toLocaleString('en')} messages/s, ` +
      `p50 ${r.p50us} µs, p99 ${r.p99us} µs, max ${r.maxUs} µs ` +
      `(${r.messages.toLocaleString('en')} messages over ${r.distinctTexts} distinct texts; ${r.cpu})`,
  )
}

if (which === 'all' || which === 'http') {
  const messages = Number(process.env.BENCH_MESSAGES ?? 10_000)
  const r = await benchHttp({ messages })
  out(
    `webhooks (centralita serve on SQLite, Chatwoot deliveries, 32 connections, ${messages.toLocaleString('en')} new messages):`,
  )
  out(
    `  acknowledged: ${r.burst.perSecond.toLocaleString('en')} req/s, p50 ${r.burst.p50} ms, p99 ${r.burst.p99} ms, non-2xx ${r.burst.non2xx}`,
  )
  out(
    `  end to end (acknowledged, triaged, actions queued): ${r.endToEnd.toLocaleString('en')} messages/s`,
  )
  out(`  hub CPU time per message over that run: ${r.cpuPerMessage} µs`)
  out(
    `  at a steady 1,000 req/s for 10 s (paced, open loop): ${r.steady.perSecond.toLocaleString('en')} req/s served, p50 ${r.steady.p50} ms, p99 ${r.steady.p99} ms, non-2xx ${r.steady.non2xx}`,
  )
  out(`  peak RSS of the hub: ${r.rss} MB`)
  out(
    `  bare express endpoint, same load: ${r.bare.perSecond.toLocaleString('en')} req/s, p99 ${r.bare.p99} ms; hub/bare = ${(r.burst.perSecond / r.bare.perSecond).toFixed(2)}`,
  )
  out(
    `  bare express endpoint at a steady 1,000 req/s: p50 ${r.bareSteady.p50} ms, p99 ${r.bareSteady.p99} ms`,
  )
}

if (which === 'postgres' || (which === 'all' && servicePath('postgres') !== null)) {
  const messages = Number(process.env.BENCH_MESSAGES ?? 10_000)
  out(
    `webhooks on PostgreSQL (centralita serve, the database on this machine too, 32 connections split over the instances, ${process.env.BENCH_TRIAGE_LANES ? `TRIAGE_LANES=${process.env.BENCH_TRIAGE_LANES} (one instance, two)` : 'two instances with one triage lane each'}, ${messages.toLocaleString('en')} new messages):`,
  )
  // BENCH_PG_ROUNDS: rounds of one instance and then two, alternating (3 by default): one
  // run of each moves by tens of percent on a shared 2-vCPU machine, and the comparison of
  // the two is only as good as the rounds behind it.
  const rounds = Math.max(1, Math.floor(Number(process.env.BENCH_PG_ROUNDS) || 3))
  const runs = await benchPostgres({ messages, rounds })
  for (const r of runs) {
    out(
      `  ${rounds > 1 ? `round ${r.round}, ` : ''}${r.instances} instance${r.instances > 1 ? 's' : ''}: acknowledged ${r.burst.perSecond.toLocaleString('en')} req/s (p99 ${r.burst.p99} ms, non-2xx ${r.burst.non2xx}); end to end ${r.endToEnd.toLocaleString('en')} messages/s; at a steady 500 req/s p50 ${r.steady.p50} ms, p99 ${r.steady.p99} ms${r.instances > 1 ? ` (the slower instance's ${r.worstInstanceP99} ms)` : ''}, non-2xx ${r.steady.non2xx}, decided p50 ${r.steadyDecided.p50} ms and p99 ${r.steadyDecided.p99} ms after receipt; CPU per message: hubs ${r.hubCpuPerMessage} µs, PostgreSQL ${r.databaseCpuPerMessage} µs (at 500 req/s: ${r.steadyHubCpuPerMessage} µs, ${r.steadyDatabaseCpuPerMessage} µs)`,
    )
  }
  for (const line of postgresSummary(runs, rounds)) out(line)
}

if (which === 'all' || which === 'outbox') {
  out(
    'toward the inbox (centralita serve on SQLite; a loopback Chatwoot in its own process sends paced webhooks, four per conversation, after a 2 s warm-up, and answers each API call after 30 ms, throttled like Rack::Attack):',
  )
  // Each conversation gets four messages: its first, then three follow-ups.
  const scenarios = [
    // An install that raised Chatwoot's throttle for its volume (RACK_ATTACK_LIMIT).
    { rate: 200, seconds: 10, perMinute: 60_000, hubPerMinute: 54_000 },
    // Chatwoot's default throttle, 3,000 requests a minute, and the hub's default under it.
    { rate: 15, seconds: 20, perMinute: 3_000, hubPerMinute: 2_700 },
  ]
  for (const s of scenarios) {
    const conversations = (s.rate * s.seconds) / 4
    const r = await benchChatwoot({ ...s, conversations, latencyMs: 30 })
    const answers = Object.entries(r.answers)
      .map(([status, n]) => `${n} × ${status}`)
      .join(', ')
    out(
      `  ${r.rate} msg/s for ${r.seconds} s, Chatwoot throttle ${r.perMinute.toLocaleString('en')}/min: webhooks ${answers}; webhook → routed in Chatwoot p50 ${r.p50} ms, p99 ${r.p99} ms; ${r.actionsPerSecond} actions/s executed; Chatwoot calls per message ${r.callsPerMessage} (a conversation's first ${r.callsFirst}, the next ones ${r.callsLater}); 429s from Chatwoot ${r.throttled}; spec violations ${r.violations}; hub CPU ${r.hubCpuPerMessage} µs/message`,
    )
  }
}
