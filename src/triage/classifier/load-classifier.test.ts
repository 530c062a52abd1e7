import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/helpers/hub.js'
import { silentLogger } from '../../logger.js'
import { normalizeText } from '../normalize-text.js'
import { loadClassifier } from './load-classifier.js'

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
})
