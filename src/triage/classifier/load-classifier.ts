import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../kit/logger.js'
import type { IntentClassifier } from '../triage.js'
import { compileModel, trainModel } from './bayes.js'
import {
  classifierFromFile,
  compiledScorer,
  encodeModel,
  lazyClassifier,
  MODEL_VERSION,
  modelHeader,
} from './compiled-model.js'
import { loadCorpus } from './corpus.js'

export type ClassifierSource = { corpusDir: string; cacheDir: string | null }

/**
 * The classifier for the hub: trained on the whole corpus in `data/`, cached under
 * `cacheDir` keyed by the corpus hash and model version, so it is trained once (at build or
 * on first start) and never downloaded. A cache that cannot be written is only a warning.
 */
export function loadClassifier(source: ClassifierSource, logger: Logger): IntentClassifier {
  const corpus = loadCorpus(source.corpusDir)
  const file = cacheFile(source, corpus.hash)
  if (file && existsSync(file)) {
    try {
      const cached = classifierFromFile(file, corpus.hash)
      if (cached) {
        logger.debug({ file }, 'classifier loaded from cache')
        return cached
      }
    } catch (err) {
      logger.warn({ err, file }, 'classifier cache unreadable, retraining')
    }
  }
  const started = Date.now()
  const model = compileModel(trainModel(corpus.rows, corpus.hash))
  logger.info({ examples: corpus.rows.length, ms: Date.now() - started }, 'classifier trained')
  let saved: string | null = null
  if (file && source.cacheDir) {
    try {
      mkdirSync(source.cacheDir, { recursive: true })
      const temporary = `${file}.${process.pid}.tmp`
      writeFileSync(temporary, encodeModel(model))
      renameSync(temporary, file)
      saved = file
      // Models of an older corpus or model version are never read again (models trained on
      // corrections, `classifier-db-*`, are the database's: see `src/learning/`).
      for (const name of readdirSync(source.cacheDir)) {
        if (/^classifier-(?!db-).*\.(json|bin)$/.test(name) && join(source.cacheDir, name) !== file)
          rmSync(join(source.cacheDir, name), { force: true })
      }
    } catch (err) {
      logger.warn({ err, dir: source.cacheDir }, 'classifier cache not written')
    }
  }
  const classifier = compiledScorer(model)
  return saved ? { ...classifier, file: saved } : classifier
}

function cacheFile(source: ClassifierSource, corpusHash: string): string | null {
  return source.cacheDir
    ? join(source.cacheDir, `classifier-${MODEL_VERSION}-${corpusHash.slice(0, 16)}.bin`)
    : null
}

/**
 * The classifier of a hub whose text analysis runs on a thread of its own (which reads the
 * cache file itself): the model is read here only when this thread needs it, for a message
 * the analysis thread did not answer for. A missing or stale cache is trained and written at
 * once, as `loadClassifier` does (and that model is kept).
 */
export function deferredClassifier(source: ClassifierSource, logger: Logger): IntentClassifier {
  const corpus = loadCorpus(source.corpusDir)
  const file = cacheFile(source, corpus.hash)
  let header: ReturnType<typeof modelHeader> | null = null
  try {
    header = file && existsSync(file) ? modelHeader(file) : null
  } catch {}
  if (!file || header?.version !== MODEL_VERSION || header.corpusHash !== corpus.hash)
    return loadClassifier(source, logger)
  return lazyClassifier(file, header.name, () => loadClassifier(source, logger))
}
