import { servicePath } from '../helpers/services.js'
import { benchClassify } from './classify.js'
import { benchHttp } from './http.js'
import { benchPostgres } from './postgres.js'

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
    `webhooks on PostgreSQL (centralita serve, the database on this machine too, 32 connections split over the instances, ${messages.toLocaleString('en')} new messages):`,
  )
  for (const r of await benchPostgres({ messages })) {
    out(
      `  ${r.instances} instance${r.instances > 1 ? 's' : ''}: acknowledged ${r.burst.perSecond.toLocaleString('en')} req/s (p99 ${r.burst.p99} ms, non-2xx ${r.burst.non2xx}); end to end ${r.endToEnd.toLocaleString('en')} messages/s; at a steady 500 req/s p50 ${r.steady.p50} ms, p99 ${r.steady.p99} ms, non-2xx ${r.steady.non2xx}; CPU per message: hubs ${r.hubCpuPerMessage} µs, PostgreSQL ${r.databaseCpuPerMessage} µs`,
    )
  }
}
