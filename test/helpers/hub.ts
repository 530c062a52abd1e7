import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { ADAPTERS } from '../../adapters/registry.js'
import { type Config, loadConfig } from '../../src/config.js'
import type { AnyAdapter } from '../../src/contracts/channel.js'
import { createHub, type Hub } from '../../src/hub.js'
import type { Clock } from '../../src/kit/clock.js'
import { silentLogger } from '../../src/kit/logger.js'
import { openStore, type Store } from '../../src/store/open-store.js'
import { outbox } from '../../src/store/schema.js'
import type { Sql } from '../../src/store/sql.js'
import { triageBacklog } from '../../src/store/triage-queue.js'
import type { IntentClassifier } from '../../src/triage/triage.js'
import { createTriageWorker, type TriageWorkerDeps } from '../../src/worker/triage-worker.js'
import { waitFor } from './wait.js'

export const RULES_DIR = join(import.meta.dirname, '../../rules')

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'centralita-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A model cache directory of its own under `dir`, holding the corpus model as built (a test
 * that trains or adopts models must not write in the project's `data/model`).
 */
export function ownModelCache(dir: string): string {
  const cache = join(dir, 'model')
  mkdirSync(cache, { recursive: true })
  const built = join(import.meta.dirname, '../../data/model')
  for (const name of existsSync(built) ? readdirSync(built) : [])
    if (/^classifier-(?!db-).*\.bin$/.test(name)) copyFileSync(join(built, name), join(cache, name))
  return cache
}

/**
 * A hub on a real SQLite file in a temporary directory, configured from `env` exactly as
 * `centralita serve` would be, with a silent logger.
 */
export function testHub(
  env: Record<string, string>,
  options: {
    clock?: Clock
    dir?: string
    configure?: (config: Config) => void
    /** A classifier to use instead of the one trained on the corpus. */
    classifier?: IntentClassifier | null
    /** The channels (the registry's, by default). */
    adapters?: readonly AnyAdapter[]
    /** The database, open and migrated (a PostgreSQL one: `openStore`); closed with the hub. */
    store?: Store
  } = {},
) {
  const temp = options.dir ? { dir: options.dir, cleanup: () => {} } : tempDir()
  const config = loadConfig(
    {
      DATABASE_URL: `file:${join(temp.dir, 'centralita.db')}`,
      RULES_DIR,
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    options.adapters ?? ADAPTERS,
  )
  options.configure?.(config)
  const hub: Hub = createHub({
    config,
    logger: silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.classifier !== undefined ? { classifier: options.classifier } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
    ...(options.store ? { store: options.store } : {}),
  })
  return {
    hub,
    dir: temp.dir,
    close: async () => {
      await hub.stop()
      temp.cleanup()
    },
  }
}

/**
 * Hubs listening on loopback, each closed after the test that started it. `track` closes
 * anything else a test started (another hub on the same directory, a server).
 */
export function listeningHubs(defaults: Record<string, string>) {
  const running: { close: () => Promise<void> }[] = []
  afterEach(async () => {
    for (const t of running.splice(0)) await t.close()
  })
  return {
    async start(env: Record<string, string> = {}) {
      const t = testHub({ ...defaults, ...env })
      running.push(t)
      const { port } = await t.hub.listen()
      return { t, port, base: `http://127.0.0.1:${port}` }
    },
    track(closable: { close: () => Promise<void> }) {
      running.push(closable)
    },
  }
}

/** A test hub on the PostgreSQL database `url` (opened and migrated here), as `testHub`. */
export async function testHubOnPostgres(
  url: string,
  env: Record<string, string>,
  options: Omit<Parameters<typeof testHub>[1], 'store'> = {},
) {
  const store = await openStore({ engine: 'postgres', url })
  return testHub({ ...env, DATABASE_URL: url }, { ...options, store })
}

/**
 * Waits until every stored message is triaged (or given up on) and every queued outbox effect
 * has run (done, or dead-lettered). A webhook is acknowledged before its message is triaged, so
 * the outbox alone can look settled while a message still waits to queue its effects.
 */
export function settled(hub: Hub, timeoutMs = 5000) {
  return waitFor(
    async () =>
      (await triageBacklog(hub.sql)) === 0 &&
      hub.db
        .select({ status: outbox.status })
        .from(outbox)
        .all()
        .every((e) => e.status === 'done' || e.status === 'dead'),
    { timeoutMs, what: 'every message triaged and every effect run' },
  )
}

/**
 * A triage worker of the test's own on a hub's store and rulebook (stop the hub's own first),
 * and how many slices (transactions) it ran.
 */
export function ownTriageWorker(hub: Hub, options: Partial<TriageWorkerDeps> = {}) {
  const db = options.db ?? hub.sql
  let slices = 0
  const worker = createTriageWorker({
    clock: { now: () => new Date() },
    logger: silentLogger,
    channels: hub.channels,
    rulebook: hub.rulebook,
    classifier: hub.classifier,
    tools: { email: null },
    ...options,
    db: {
      ...db,
      transaction: ((body, how) => {
        slices++
        return db.transaction(body, how)
      }) as Sql['transaction'],
    },
  })
  return Object.assign(worker, { slices: () => slices })
}
