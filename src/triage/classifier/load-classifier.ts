import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../logger.js'
import type { IntentClassifier } from '../triage.js'
import { compileModel, trainModel } from './bayes.js'
import { classifierFromFile, compiledScorer, encodeModel, MODEL_VERSION } from './compiled-model.js'
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
    ? join(source.cacheDir, `classifier-${MODEL_VERSION}-${corpus.hash.slice(0, 16)}.bin`)
    : null
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
  if (file && source.cacheDir) {
    try {
      mkdirSync(source.cacheDir, { recursive: true })
      const temporary = `${file}.${process.pid}.tmp`
      writeFileSync(temporary, encodeModel(model))
      renameSync(temporary, file)
      // Models of an older corpus or model version are never read again.
      for (const name of readdirSync(source.cacheDir)) {
        if (/^classifier-.*\.(json|bin)$/.test(name) && join(source.cacheDir, name) !== file)
          rmSync(join(source.cacheDir, name), { force: true })
      }
    } catch (err) {
      logger.warn({ err, dir: source.cacheDir }, 'classifier cache not written')
    }
  }
  return compiledScorer(model)
}
