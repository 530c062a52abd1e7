import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/helpers/hub.js'
import { silentLogger } from '../../kit/logger.js'
import { normalizeText } from '../normalize-text.js'
import { loadCorpus } from './corpus.js'
import { deferredClassifier, loadClassifier } from './load-classifier.js'

describe('loadClassifier', () => {
  let temp: ReturnType<typeof tempDir>
  beforeEach(() => {
    temp = tempDir()
    cpSync('data/corpus', join(temp.dir, 'corpus'), { recursive: true })
  })
  afterEach(() => temp.cleanup())

  it('trains on the corpus, caches the model, and retrains only when the corpus changes', () => {
    const source = { corpusDir: join(temp.dir, 'corpus'), cacheDir: join(temp.dir, 'model') }
    const first = loadClassifier(source, silentLogger)
    const cached = readdirSync(source.cacheDir)
    expect(cached).toHaveLength(1)
    const scores = first.scores(normalizeText('quiero comprar el plan mensual').tokens, 'es')
    expect([...scores].sort((a, b) => b[1] - a[1])[0]![0]).toBe('sales')
    expect([...scores.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)

    loadClassifier(source, silentLogger)
    expect(readdirSync(source.cacheDir)).toEqual(cached)

    writeFileSync(
      join(source.corpusDir, 'extra.jsonl'),
      '{"text":"hola qué tal","lang":"es","intent":"other"}\n',
    )
    loadClassifier(source, silentLogger)
    // Retrained, and the model of the old corpus removed.
    const retrained = readdirSync(source.cacheDir)
    expect(retrained).toHaveLength(1)
    expect(retrained).not.toEqual(cached)
  })

  it('works without a writable cache', () => {
    // A cache "directory" under a plain file cannot be created.
    writeFileSync(join(temp.dir, 'plain-file'), '')
    const source = {
      corpusDir: join(temp.dir, 'corpus'),
      cacheDir: join(temp.dir, 'plain-file', 'model'),
    }
    const classifier = loadClassifier(source, silentLogger)
    expect(
      classifier.scores(normalizeText('me cobraron dos veces').tokens, 'es').get('payment'),
    ).toBeGreaterThan(0.5)
    expect(existsSync(source.cacheDir)).toBe(false)
  })

  it('names the file and line of a bad corpus row', () => {
    writeFileSync(
      join(temp.dir, 'corpus', 'broken.jsonl'),
      '{"text":"hola","lang":"es","intent":"nonsense"}\n',
    )
    expect(() =>
      loadClassifier({ corpusDir: join(temp.dir, 'corpus'), cacheDir: null }, silentLogger),
    ).toThrow(/broken\.jsonl:1: intent/)
  })

  it('scores from its cache exactly as the model it trained', () => {
    const source = { corpusDir: join(temp.dir, 'corpus'), cacheDir: join(temp.dir, 'model') }
    const trained = loadClassifier(source, silentLogger)
    const said: string[] = []
    const logger = Object.assign(Object.create(silentLogger), {
      debug: (_: unknown, message: string) => said.push(message),
      info: (_: unknown, message: string) => said.push(message),
    })
    const cached = loadClassifier(source, logger)
    expect(said).toEqual(['classifier loaded from cache'])
    const corpus = loadCorpus(source.corpusDir)
    expect(cached.name).toBe(trained.name)
    for (const row of corpus.rows.filter((_, i) => i % 7 === 0)) {
      const { tokens } = normalizeText(row.text)
      expect([...cached.scores(tokens, row.lang)]).toEqual([...trained.scores(tokens, row.lang)])
      expect([...cached.signalScores!(tokens, row.lang)]).toEqual([
        ...trained.signalScores!(tokens, row.lang),
      ])
    }
  })

  it('retrains over a damaged cache, and removes caches of the old format', () => {
    const source = { corpusDir: join(temp.dir, 'corpus'), cacheDir: join(temp.dir, 'model') }
    loadClassifier(source, silentLogger)
    const [name] = readdirSync(source.cacheDir)
    const file = join(source.cacheDir, name!)
    const whole = readFileSync(file)
    // Cut short, and an old JSON cache beside it.
    writeFileSync(file, whole.subarray(0, whole.length - 100))
    writeFileSync(join(source.cacheDir, 'classifier-nb-lr-1-0000000000000000.json'), '{}')
    const warnings: { err?: Error }[] = []
    const logger = Object.assign(Object.create(silentLogger), {
      warn: (fields: { err?: Error }) => warnings.push(fields),
    })
    const classifier = loadClassifier(source, logger)
    expect(warnings.map((w) => w.err?.message)).toEqual(['classifier cache: truncated'])
    expect(
      classifier.scores(normalizeText('me cobraron dos veces').tokens, 'es').get('payment'),
    ).toBeGreaterThan(0.5)
    expect(readdirSync(source.cacheDir)).toEqual([name])
    expect(readFileSync(file)).toEqual(whole)
  })

  it('defers reading the model for a hub with the analysis thread, and scores the same', () => {
    const source = { corpusDir: join(temp.dir, 'corpus'), cacheDir: join(temp.dir, 'model') }
    // No cache yet: trained and written at once, as loadClassifier does.
    const first = deferredClassifier(source, silentLogger)
    expect(first.file).toBeDefined()
    expect(readdirSync(source.cacheDir)).toHaveLength(1)
    const deferred = deferredClassifier(source, silentLogger)
    const eager = loadClassifier(source, silentLogger)
    expect(deferred.name).toBe(eager.name)
    expect(deferred.file).toBe(eager.file)
    for (const text of ['me cobraron dos veces', 'los voy a demandar', 'what are your hours?']) {
      const { tokens } = normalizeText(text)
      expect([...deferred.scores(tokens, 'es')]).toEqual([...eager.scores(tokens, 'es')])
      expect([...deferred.signalScores!(tokens, 'es')]).toEqual([
        ...eager.signalScores!(tokens, 'es'),
      ])
    }
  })
})
