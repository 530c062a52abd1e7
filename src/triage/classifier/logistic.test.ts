import { describe, expect, it } from 'vitest'
import { alignLogistic, type SavedLogistic, trainLogistic } from './logistic.js'

/** Scores feature names with a model laid out on its own vocabulary. */
const scorerOf = (model: SavedLogistic) => {
  const index = new Map(model.features.map((f, i) => [f, i]))
  const aligned = alignLogistic(model, index, model.labels)
  return {
    labels: model.labels,
    logits: (features: string[]) =>
      aligned.logits(features.flatMap((f) => (index.has(f) ? [index.get(f)!] : []))),
  }
}

const softmax = (z: Float64Array) => {
  const max = Math.max(...z)
  const e = [...z].map((v) => Math.exp(v - max))
  const sum = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / sum)
}

// Words shared by both labels carry no evidence; "refund" and "hours" decide.
const docs = [
  ...Array.from({ length: 20 }, (_, i) => ({
    features: ['u:refund', 'u:please', i % 2 ? 'u:today' : 'u:now'],
    label: 'payment',
  })),
  ...Array.from({ length: 20 }, (_, i) => ({
    features: ['u:hours', 'u:please', i % 2 ? 'u:today' : 'u:now'],
    label: 'faq',
  })),
]

describe('trainLogistic', () => {
  it('learns which features tell the labels apart, and none from shared ones', () => {
    const scorer = scorerOf(trainLogistic(docs))
    const p = (features: string[]) => {
      const probabilities = softmax(scorer.logits(features))
      return Object.fromEntries(scorer.labels.map((label, i) => [label, probabilities[i]!]))
    }
    expect(p(['u:refund', 'u:please']).payment).toBeGreaterThan(0.9)
    expect(p(['u:hours', 'u:now']).faq).toBeGreaterThan(0.9)
    expect(p(['u:please', 'u:today']).faq).toBeCloseTo(0.5, 1)
    // Nothing known: the labels' base rates (equal here).
    expect(p(['u:unheard-of']).faq).toBeCloseTo(0.5, 1)
  })

  it('gives the same model for the same corpus, and a cached copy scores exactly like it', () => {
    const model = trainLogistic(docs)
    expect(trainLogistic(docs)).toEqual(model)
    const cached = scorerOf(JSON.parse(JSON.stringify(model)))
    const fresh = scorerOf(model)
    for (const features of [['u:refund'], ['u:hours', 'u:please'], ['u:now']]) {
      expect([...cached.logits(features)]).toEqual([...fresh.logits(features)])
    }
  })
})
