import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../logger.js'
import type { IntentClassifier } from '../triage.js'
import { MODEL_VERSION, modelScorer, type SavedModel, trainModel } from './bayes.js'
import { loadCorpus } from './corpus.js'

export type ClassifierSource = { corpusDir: string; cacheDir: string | null }

/**
 * The classifier for the hub: trained on the whole corpus in `data/`, cached under
 * `cacheDir` keyed by the corpus hash and model version, so it is trained once (at build or
 * on first start) and never downloaded. A cache that cannot be written is only a warning.
 */
export function loadClassifier(source: ClassifierSource, logger: Logger): IntentClassifier {
  const corpus = loadCorpus(source.corpusDir)
  const file = source.cacheDir
    ? join(source.cacheDir, `classifier-${MODEL_VERSION}-${corpus.hash.slice(0, 16)}.json`)
    : null
  if (file && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedModel
      if (saved.version === MODEL_VERSION && saved.corpusHash === corpus.hash) {
        logger.debug({ file }, 'classifier loaded from cache')
        return modelScorer(saved)
      }
    } catch (err) {
      logger.warn({ err, file }, 'classifier cache unreadable, retraining')
    }
  }
  const started = Date.now()
  const model = trainModel(corpus.rows, corpus.hash)
  logger.info({ examples: corpus.rows.length, ms: Date.now() - started }, 'classifier trained')
  if (file && source.cacheDir) {
    try {
      mkdirSync(source.cacheDir, { recursive: true })
      const temporary = `${file}.${process.pid}.tmp`
      writeFileSync(temporary, JSON.stringify(model))
      renameSync(temporary, file)
      // Models of an older corpus or model version are never read again.
      for (const name of readdirSync(source.cacheDir)) {
        if (/^classifier-.*\.json$/.test(name) && join(source.cacheDir, name) !== file)
          rmSync(join(source.cacheDir, name), { force: true })
      }
    } catch (err) {
      logger.warn({ err, dir: source.cacheDir }, 'classifier cache not written')
    }
  }
  return modelScorer(model)
}
