import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import type { Sql } from '../store/sql.js'
import {
  classifierFromBuffer,
  classifierFromFile,
  lazyClassifier,
  MODEL_VERSION,
  modelHeader,
} from '../triage/classifier/compiled-model.js'
import { loadCorpus } from '../triage/classifier/corpus.js'
import {
  type ClassifierSource,
  deferredClassifier,
  loadClassifier,
} from '../triage/classifier/load-classifier.js'
import type { IntentClassifier } from '../triage/triage.js'
import { activeModel, activeModelId, modelWeights } from './model-store.js'

/** How often a hub looks for a newly adopted (or rolled back) model. */
export const MODEL_POLL_MS = 5000

export type HubClassifier = { classifier: IntentClassifier; modelId: number }

/**
 * The classifier a hub runs: the active model trained on corrections (`retrain.ts`), or the
 * corpus model when there is none, or when the active one was trained on another corpus or
 * model version (an upgrade): it then waits for the next `centralita train`.
 *
 * A model from the database is written to the model cache directory (`classifier-db-<id>.bin`),
 * where the text-analysis thread reads it too. `lazy`: read it on this thread only when needed.
 */
export async function hubClassifier(
  db: Sql,
  source: ClassifierSource,
  logger: Logger,
  options: { lazy: boolean },
): Promise<HubClassifier> {
  const corpusModel = () =>
    options.lazy ? deferredClassifier(source, logger) : loadClassifier(source, logger)
  const active = await activeModel(db)
  if (!active) return { classifier: corpusModel(), modelId: 0 }
  const corpusHash = loadCorpus(source.corpusDir).hash
  if (active.corpusHash !== corpusHash || active.modelVersion !== MODEL_VERSION) {
    logger.warn(
      { model: active.id },
      'the model trained on corrections is of another corpus or model version: using the corpus model until `centralita train`',
    )
    return { classifier: corpusModel(), modelId: 0 }
  }
  const weights = await modelWeights(db, active.id)
  const fromDb = weights && modelFrom(weights, active.id, source, logger, options.lazy, corpusModel)
  if (!fromDb) {
    logger.error({ model: active.id }, 'the active model cannot be read: using the corpus model')
    return { classifier: corpusModel(), modelId: 0 }
  }
  logger.info({ model: active.id, name: fromDb.name }, 'classifier: model trained on corrections')
  return { classifier: fromDb, modelId: active.id }
}

function modelFrom(
  weights: Buffer,
  id: number,
  source: ClassifierSource,
  logger: Logger,
  lazy: boolean,
  fallback: () => IntentClassifier,
): IntentClassifier | null {
  if (!source.cacheDir) return classifierFromBuffer(weights)
  const name = `classifier-db-${id}.bin`
  const file = join(source.cacheDir, name)
  try {
    if (!existsSync(file)) {
      mkdirSync(source.cacheDir, { recursive: true })
      const temporary = `${file}.${process.pid}.tmp`
      writeFileSync(temporary, weights)
      renameSync(temporary, file)
    }
    for (const other of readdirSync(source.cacheDir))
      if (/^classifier-db-\d+\.bin$/.test(other) && other !== name)
        rmSync(join(source.cacheDir, other), { force: true })
    return lazy ? lazyClassifier(file, modelHeader(file).name, fallback) : classifierFromFile(file)
  } catch (err) {
    logger.warn({ err, dir: source.cacheDir }, 'model cache not written: kept in memory')
    return classifierFromBuffer(weights)
  }
}

/**
 * Polls for a change of the active model (a `centralita train` that adopted one, a rollback,
 * on this instance or another) and hands the new classifier to `onChange`.
 */
export function watchActiveModel(options: {
  db: Sql
  source: ClassifierSource
  logger: Logger
  lazy: boolean
  /** The model in use now (0: the corpus model). */
  current: () => number
  onChange: (next: HubClassifier) => void
  pollMs?: number
}): Loop {
  return startLoop({
    name: 'model-watch',
    logger: options.logger,
    pollMs: options.pollMs ?? MODEL_POLL_MS,
    runOnce: async (): Promise<'idle'> => {
      if ((await activeModelId(options.db)) === options.current()) return 'idle'
      const next = await hubClassifier(options.db, options.source, options.logger, {
        lazy: options.lazy,
      })
      options.onChange(next)
      return 'idle'
    },
  })
}
