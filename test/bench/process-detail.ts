import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

// Where processes' CPU time went over a stretch of a bench, for `BENCH_PG_DETAIL=1`: user and
// kernel time, the main threads' against every other thread's (the text-analysis thread, V8's
// compiler and garbage collector helpers, libuv's pool), context switches, and system calls
// (counted by `perf stat` where Debian's linux-perf is installed). `BENCH_PG_PERF=<folder>`
// also records where the CPU time went (`perf record` on the cpu-clock event, which samples
// only while a thread runs; run the hubs with `--perf-basic-prof` to name their JavaScript).

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

/** Starts watching `pids`; `end(messages)` prints what they spent a message since. */
export function watchProcesses(pids: readonly number[], label: string, recordTo?: string) {
  const before = times(pids)
  const list = pids.join(',')
  const events = 'raw_syscalls:sys_enter,page-faults'
  const counter = perf(['stat', '-x,', '-e', events, '-p', list])
  const recorder = recordTo
    ? perf(['record', '-e', 'cpu-clock', '-F', '1999', '-o', recordTo, '-p', list])
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
      process.stderr.write(
        `${label}, a message: user ${per('user')} µs, kernel ${per('kernel')} µs; main threads ${per('main')} µs, other threads ${per('others')} µs; ${((after.switches - before.switches) / messages).toFixed(2)} context switches${perfCounts.length ? `; ${perfCounts.join(', ')}` : ''}\n`,
      )
    },
  }
}
