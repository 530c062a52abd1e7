import { describe, expect, it } from 'vitest'
import { detectLanguage } from '../detect-language.js'
import { normalizeText } from '../normalize-text.js'
import { loadCorpus } from './corpus.js'
import { featureLookup, featureRows, featuresOf } from './features.js'

describe('featureRows', () => {
  it('gives the rows of exactly the known features of featuresOf, in order, each once', () => {
    const rows = loadCorpus('data/corpus').rows
    // A vocabulary of half the corpus, so the other half has unknown features too.
    const index = new Map<string, number>()
    for (const row of rows.filter((_, i) => i % 2 === 0)) {
      for (const f of featuresOf(normalizeText(row.text).tokens, row.lang)) {
        if (!index.has(f)) index.set(f, index.size)
      }
    }
    const lookup = featureLookup(index)
    let unknown = 0
    for (const row of rows) {
      const { tokens } = normalizeText(row.text)
      const language = detectLanguage(tokens, row.text).language
      const features = featuresOf(tokens, language)
      const expected = features.flatMap((f) => (index.has(f) ? [index.get(f)!] : []))
      unknown += features.length - expected.length
      expect(featureRows(tokens, language, lookup)).toEqual(expected)
    }
    expect(unknown).toBeGreaterThan(0)
  })

  it('counts a repeated word once, also after its scratch counter wraps', () => {
    const { tokens } = normalizeText('hola hola hola')
    const features = featuresOf(tokens, 'es')
    const index = new Map(features.map((f, i) => [f, i]))
    expect(features.filter((f) => f.startsWith('b:'))).toHaveLength(1)
    const lookup = featureLookup(index)
    lookup.message = 0xffffffff - 1
    for (let i = 0; i < 3; i++) {
      expect(featureRows(tokens, 'es', lookup)).toEqual(features.map((_, i) => i))
    }
  })
})
