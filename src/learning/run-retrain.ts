import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { DatabaseTarget } from '../config.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import type { Sql } from '../store/sql.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { learnedExamples } from './corrections.js'
import { latestTraining } from './model-store.js'
import type { RetrainOutcome } from './retrain.js'

/** What a retrain needs to find the hub's data: the database as a `DATABASE_URL`. */
export type RetrainJob = { database: string; corpusDir: string; rulesDir: string }

/** A retrain is given this long before it is stopped. */
const RETRAIN_TIMEOUT_MS = 10 * 60_000

export type Retrainer = {
  /** Starts a retrain unless one is running; resolves with its outcome. */
  run(
    by: string,
  ): Promise<
    RetrainOutcome | { outcome: 'busy'; reason?: string } | { outcome: 'failed'; reason: string }
  >
  readonly running: boolean
}

/**
 * Runs retrains in a child process (`retrain-process.ts`), one at a time: the hub's event loop
 * and memory are not touched by training. The new model, if adopted, reaches the hub through
 * the database (`watchActiveModel`).
 */
export function retrainer(job: RetrainJob, logger: Logger): Retrainer {
  let current: Promise<
    RetrainOutcome | { outcome: 'busy'; reason?: string } | { outcome: 'failed'; reason: string }
  > | null = null
  return {
    get running() {
      return current !== null
    },
    run(by) {
      if (current !== null) return Promise.resolve({ outcome: 'busy' } as const)
      current = inChild({ ...job, by }).finally(() => {
        current = null
      })
      void current.then((outcome) =>
        outcome.outcome === 'failed'
          ? logger.error({ reason: outcome.reason }, 'retrain failed')
          : logger.info({ outcome: outcome.outcome, by }, 'retrain finished'),
      )
      return current
    },
  }
}

function inChild(
  job: RetrainJob & { by: string },
): Promise<
  RetrainOutcome | { outcome: 'busy'; reason?: string } | { outcome: 'failed'; reason: string }
> {
  // The built hub runs the compiled script; from the TypeScript sources, tsx runs it.
  const fromSource = import.meta.url.endsWith('.ts')
  const script = fileURLToPath(
    new URL(`./retrain-process.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  )
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...(fromSource ? ['--import', 'tsx'] : []), script, JSON.stringify(job)],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: RETRAIN_TIMEOUT_MS },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-4000)
    })
    child.on('error', (error) => resolve({ outcome: 'failed', reason: error.message }))
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').at(-1) ?? ''
      if (code === 0 && last.startsWith('{')) {
        resolve(JSON.parse(last) as RetrainOutcome | { outcome: 'busy'; reason?: string })
        return
      }
      const why = err.trim().split('\n').at(-1) ?? ''
      resolve({
        outcome: 'failed',
        reason: `retrain exited with ${signal ?? `code ${code}`}${why ? `: ${why}` : ''}`,
      })
    })
  })
}

/**
 * The scheduled retrain (opt-in, `learning.retrain` in settings.yaml): once `every` has passed
 * since the last training (adopted or not) and `min_corrections` new corrections of an intent
 * or signals came in since it, a retrain starts.
 */
export function scheduleRetrains(options: {
  db: Sql
  rulebook: () => Rulebook
  retrainer: Retrainer
  logger: Logger
  now: () => number
}): Loop {
  const every = () => options.rulebook().settings.learning.retrain?.every ?? 3_600_000
  return startLoop({
    name: 'retrain-schedule',
    logger: options.logger,
    // Looked at hourly, or as often as the period when it is shorter.
    pollMs: Math.min(every(), 3_600_000),
    runOnce: async (): Promise<'idle' | 'more'> => {
      const plan = options.rulebook().settings.learning.retrain
      if (!plan || options.retrainer.running) return 'idle'
      const latest = await latestTraining(options.db)
      if (latest && options.now() - latest.createdAt < plan.every) return 'idle'
      const since = latest?.throughCorrection ?? 0
      const fresh = (await learnedExamples(options.db)).filter((e) => e.id > since).length
      if (fresh < plan.min_corrections) return 'idle'
      options.logger.info({ corrections: fresh }, 'scheduled retrain')
      void options.retrainer.run('schedule')
      return 'idle'
    },
  })
}

/**
 * A hub's retraining: the retrainer its console and API use, and the schedule. The child opens
 * the hub's own database (an in-memory SQLite has no other door, so none there); on
 * PostgreSQL, instances train one at a time (an advisory lock in the child).
 */
export function hubRetraining(options: {
  database: DatabaseTarget
  databasePath: string
  corpusDir: string
  rulesDir: string
  db: Sql
  rulebook: () => Rulebook
  logger: Logger
  now: () => number
}): { retrainer: Retrainer | undefined; schedule: Loop | undefined } {
  const { database } = options
  if (database.engine === 'sqlite' && options.databasePath === ':memory:')
    return { retrainer: undefined, schedule: undefined }
  const retrain = retrainer(
    {
      database: database.engine === 'postgres' ? database.url : `file:${options.databasePath}`,
      corpusDir: options.corpusDir,
      rulesDir: options.rulesDir,
    },
    options.logger,
  )
  return {
    retrainer: retrain,
    schedule: scheduleRetrains({
      db: options.db,
      rulebook: options.rulebook,
      retrainer: retrain,
      logger: options.logger,
      now: options.now,
    }),
  }
}
