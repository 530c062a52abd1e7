import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { freePort } from './process.js'
import { servicePath } from './services.js'

export type TestPostgres = {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string
  /** The cluster's data folder (its `postmaster.pid` names the server process). */
  dataDir: string
  /** The server's log. */
  logFile: string
  /** A fresh database of its own in the cluster; its URL (over TCP). */
  database(): string
  /** The URL that reaches `url`'s database through the server's Unix socket instead. */
  socketUrl(url: string): string
  stop(): void
}

/**
 * A throwaway PostgreSQL cluster: `initdb` in a temporary folder, started with `pg_ctl` on a
 * free loopback port (as the `postgres` user when the tests run as root: PostgreSQL refuses to
 * run as root), stopped and removed by `stop`.
 */
export async function startPostgres(settings: string[] = []): Promise<TestPostgres> {
  const initdb = servicePath('postgres')
  if (!initdb) throw new Error('PostgreSQL is not installed (apt-get install postgresql)')
  const bin = dirname(initdb)
  const dir = mkdtempSync(join(tmpdir(), 'centralita-pg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const owner = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : null
  if (owner !== null) {
    chownSync(dir, owner, Number(execFileSync('id', ['-g', 'postgres']).toString().trim()))
    chmodSync(dir, 0o700)
  }
  const run = (program: string, args: string[]) => {
    const command = join(bin, program)
    if (asRoot)
      execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' })
    else execFileSync(command, args, { stdio: 'pipe' })
  }
  const port = await freePort()
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'])
  run('pg_ctl', [
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    [
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      ...settings.map((s) => `-c ${s}`),
    ].join(' '),
    'start',
  ])
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let databases = 0
  return {
    url,
    dataDir: data,
    logFile: join(dir, 'log'),
    database() {
      const name = `t${++databases}`
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name])
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    socketUrl(url) {
      const { pathname } = new URL(url)
      return `postgres://postgres@${pathname}?host=${encodeURIComponent(dir)}&port=${port}`
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/**
 * A cluster for the tests of one `describe`: started before them, stopped after. Each test
 * asks for a fresh database of its own (`database()`).
 */
export function postgresForSuite(): Pick<TestPostgres, 'database' | 'socketUrl'> {
  let postgres: TestPostgres | undefined
  beforeAll(async () => {
    postgres = await startPostgres()
  }, 60_000)
  afterAll(() => postgres?.stop())
  const started = () => {
    if (!postgres) throw new Error('PostgreSQL is not started yet')
    return postgres
  }
  return {
    database: () => started().database(),
    socketUrl: (url) => started().socketUrl(url),
  }
}
