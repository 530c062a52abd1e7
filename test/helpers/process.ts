import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { waitFor } from './wait.js'

export const ROOT = join(import.meta.dirname, '../..')
export const BIN = join(ROOT, 'bin/centralita.js')

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export type ServeProcess = {
  child: ChildProcess
  base: string
  output: () => string
  exited: Promise<number | null>
}

/** Runs the built `centralita serve` with `env`, resolving once /healthz answers. */
export async function startServe(
  env: Record<string, string>,
  options: {
    port?: number
    timeoutMs?: number
    nodeArgs?: string[]
    /** The checkout whose build to run (this one by default). */
    root?: string
  } = {},
): Promise<ServeProcess> {
  const port = options.port ?? (await freePort())
  const root = options.root ?? ROOT
  const bin = join(root, 'bin/centralita.js')
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const base = `http://127.0.0.1:${port}`
  let lastError = ''
  try {
    await waitFor(
      async () => {
        if (!alive(child)) throw new Error(`centralita serve ${endOf(child)}: ${output}`)
        try {
          return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok
        } catch (error) {
          lastError = String((error as Error).cause ?? error)
          return false
        }
      },
      { timeoutMs: options.timeoutMs ?? 15_000, what: 'centralita serve to listen' },
    )
  } catch (error) {
    // Say what the wait saw: the last answer to /healthz and what the process printed.
    child.kill('SIGKILL')
    throw new Error(
      `${(error as Error).message} (pid ${child.pid}, last /healthz: ${lastError || 'none'}); output: ${output.slice(-3000) || '(none)'}`,
    )
  }
  return { child, base, output: () => output, exited }
}

/** Whether the process still runs (one ended by a signal has no exit code, only a signal). */
export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** How the process ended: "exited with 1", "was killed by SIGTERM". */
export function endOf(child: ChildProcess): string {
  return child.signalCode !== null
    ? `was killed by ${child.signalCode}`
    : `exited with ${child.exitCode}`
}

/** Runs the built CLI once with `args`, `input` on stdin and only `env` (plus PATH). */
export function run(args: string[], input = '', env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
