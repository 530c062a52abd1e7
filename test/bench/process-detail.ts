import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

// Where processes' CPU time went over a stretch of a bench, for `BENCH_PG_DETAIL=1`: user and
// kernel time, the main threads' against every other thread's (the text-analysis thread, V8's
// compiler and garbage collector helpers, libuv's pool), context switches, and system calls
// (counted by `perf stat` where Debian's linux-perf is installed). `BENCH_PG_PERF=<folder>`
// also records where the CPU time went (`perf record` on the cpu-clock event, which samples
// only while a thread runs; run the hubs with `--perf-basic-prof` to name their JavaScript).
// Each hub's event-loop delay and garbage-collector pauses come from its /metrics.

type Times = { user: number; kernel: number; main: number; others: number; switches: number }

const TICK_MICROS = 1_000_000 / 100

/** Fields of a /proc stat line after the command's name (which may hold spaces). */
const statFields = (path: string) => {
  const stat = readFileSync(path, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

function times(pids: readonly number[]): Times {
  const t: Times = { user: 0, kernel: 0, main: 0, others: 0, switches: 0 }
  for (const pid of pids) {
    const fields = statFields(`/proc/${pid}/stat`)
    t.user += Number(fields[11]) * TICK_MICROS
    t.kernel += Number(fields[12]) * TICK_MICROS
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const own = statFields(`/proc/${pid}/task/${task}/stat`)
        const cpu = (Number(own[11]) + Number(own[12])) * TICK_MICROS
        if (task === String(pid)) t.main += cpu
        else t.others += cpu
        const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8')
        for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm))
          t.switches += Number(m[1])
      } catch {
        // A thread that ended while being read.
      }
    }
  }
  return t
}

function perf(args: string[]): ChildProcess | null {
  const child = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  child.on('error', () => {})
  return child.pid === undefined ? null : child
}

/** What a hub's /metrics says of its event loop and garbage collector. */
async function loopOf(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text()
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0)
  // Pauses by kind of collection (count, seconds, and how many took 10 ms or less).
  const gc = new Map<string, { count: number; seconds: number; short: number }>()
  const kind = (k: string) => gc.get(k) ?? gc.set(k, { count: 0, seconds: 0, short: 0 }).get(k)!
  for (const m of text.matchAll(
    /^nodejs_gc_duration_seconds_(count|sum)\{[^}]*kind="(\w+)"[^}]*\} (\S+)/gm,
  ))
    kind(m[2]!)[m[1] === 'count' ? 'count' : 'seconds'] = Number(m[3])
  for (const m of text.matchAll(
    /^nodejs_gc_duration_seconds_bucket\{le="0.01",[^}]*kind="(\w+)"[^}]*\} (\S+)/gm,
  ))
    kind(m[1]!).short = Number(m[2])
  return {
    // The event loop's delays since the last read (prom-client starts them again at each).
    p99: Math.round(value('nodejs_eventloop_lag_p99_seconds') * 1000),
    max: Math.round(value('nodejs_eventloop_lag_max_seconds') * 1000),
    gc,
  }
}

/**
 * Starts watching hubs (their processes, and their /metrics); `end(messages)` prints what they
 * spent a message since, and each one's event-loop delays and collector pauses.
 */
export async function watchHubs(
  hubs: readonly { pid: number; base: string }[],
  label: string,
  recordTo?: string,
) {
  const pids = hubs.map((h) => h.pid)
  const loopsBefore = await Promise.all(hubs.map((h) => loopOf(h.base)))
  const before = times(pids)
  const list = pids.join(',')
  const events = 'raw_syscalls:sys_enter,page-faults'
  const counter = perf(['stat', '-x,', '-e', events, '-p', list])
  // BENCH_PG_PERF_ALL=1: every process on the machine (the database's backends, the load),
  // not only the hubs.
  const recorder = recordTo
    ? perf([
        'record',
        '-e',
        'cpu-clock',
        '-F',
        '1999',
        '-o',
        recordTo,
        ...(process.env.BENCH_PG_PERF_ALL ? ['-a'] : ['-p', list]),
      ])
    : null
  let counted = ''
  counter?.stderr?.on('data', (chunk: Buffer) => {
    counted += chunk.toString()
  })
  const stop = async (child: ChildProcess | null) => {
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    await exited
  }
  return {
    async end(messages: number) {
      const after = times(pids)
      await Promise.all([stop(counter), stop(recorder)])
      const per = (k: keyof Times) => Math.round((after[k] - before[k]) / messages)
      const perfCounts = counted
        .trim()
        .split('\n')
        .map((line) => line.split(','))
        .filter((f) => f.length > 2 && Number.isFinite(Number(f[0])))
        .map((f) => `${(Number(f[0]) / messages).toFixed(1)} ${f[2]}`)
      const loops = (await Promise.all(hubs.map((h) => loopOf(h.base)))).map((loop, i) => {
        const pauses = [...loop.gc].map(([kind, now]) => {
          const was = loopsBefore[i]!.gc.get(kind) ?? { count: 0, seconds: 0, short: 0 }
          const count = now.count - was.count
          const long = count - (now.short - was.short)
          return `${kind} ${count} (${Math.round((now.seconds - was.seconds) * 1000)} ms, ${long} over 10 ms)`
        })
        return `event loop delay p99 ${loop.p99} ms, max ${loop.max} ms; collections ${pauses.join(', ')}`
      })
      process.stderr.write(
        `${label}, a message: user ${per('user')} µs, kernel ${per('kernel')} µs; main threads ${per('main')} µs, other threads ${per('others')} µs; ${((after.switches - before.switches) / messages).toFixed(2)} context switches${perfCounts.length ? `; ${perfCounts.join(', ')}` : ''}\n${loops.map((l) => `  ${l}\n`).join('')}`,
      )
    },
  }
}
