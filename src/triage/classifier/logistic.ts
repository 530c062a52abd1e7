import { addRows } from './features.js'

/**
 * Multinomial logistic regression on the same features as the naive Bayes model: the second
 * expert of the intent classifier (see `bayes.ts`). Naive Bayes counts every word as
 * independent evidence; this model learns how much each word adds given the others, which is
 * what separates a complaint that mentions a payment from a payment problem.
 *
 * Written here rather than taken from natural: natural's `LogisticRegressionClassifier` trains
 * by batch gradient descent on a dense documents × vocabulary matrix (about 2,000 × 15,000
 * numbers for this corpus). This one is sparse stochastic gradient descent.
 *
 * Epochs (10 or 30) and L2 weight (1e-5 to 1e-3) were chosen by 5-fold cross-validation of the
 * whole triage on the training split, never on the held-out split: 30 and 1e-4 (1e-5 tied).
 * The learning rate, 0.5 decaying with the steps taken, was not tuned.
 */

export type SavedLogistic = {
  labels: string[]
  /** The vocabulary; feature i owns weights[i * labels.length … (i + 1) * labels.length). */
  features: string[]
  weights: number[]
  bias: number[]
}

export type LogisticOptions = { epochs: number; l2: number; learningRate: number; seed: number }

export const LOGISTIC_DEFAULTS: LogisticOptions = {
  epochs: 30,
  l2: 1e-4,
  learningRate: 0.5,
  seed: 1,
}

/** Weights are kept to five decimals, so a cached model scores exactly like a fresh one. */
const round = (v: number) => Math.round(v * 1e5) / 1e5

/** A small deterministic generator (mulberry32): the same corpus always gives the same model. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function softmaxInPlace(z: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY
  for (const v of z) if (v > max) max = v
  let sum = 0
  for (let l = 0; l < z.length; l++) {
    z[l] = Math.exp(z[l]! - max)
    sum += z[l]!
  }
  for (let l = 0; l < z.length; l++) z[l]! /= sum
}

/**
 * Trains on labelled feature lists. Each document is a binary bag of features scaled to unit
 * length (1/√n each), so a long email does not outvote a short chat line.
 */
export function trainLogistic(
  docs: readonly { features: readonly string[]; label: string }[],
  options: LogisticOptions = LOGISTIC_DEFAULTS,
): SavedLogistic {
  const labels = [...new Set(docs.map((d) => d.label))].sort()
  const width = labels.length
  const vocabulary = new Map<string, number>()
  const encoded = docs.map((doc) => ({
    features: [
      ...new Set(
        doc.features.map((f) => {
          let at = vocabulary.get(f)
          if (at === undefined) {
            at = vocabulary.size
            vocabulary.set(f, at)
          }
          return at
        }),
      ),
    ],
    label: labels.indexOf(doc.label),
  }))
  const weights = new Float64Array(vocabulary.size * width)
  const bias = new Float64Array(width)
  const z = new Float64Array(width)
  const order = encoded.map((_, i) => i)
  const next = random(options.seed)
  let step = 0
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    for (const index of order) {
      const doc = encoded[index]!
      if (doc.features.length === 0) continue
      const rate = options.learningRate / (1 + options.learningRate * options.l2 * step++)
      const scale = 1 / Math.sqrt(doc.features.length)
      z.set(bias)
      for (const f of doc.features) {
        for (let l = 0; l < width; l++) z[l]! += weights[f * width + l]! * scale
      }
      softmaxInPlace(z)
      // Gradient of the log-loss; the L2 shrink is applied to the weights this document uses
      // (the usual sparse approximation), the bias is not shrunk.
      const shrink = 1 - rate * options.l2
      for (let l = 0; l < width; l++) {
        const gradient = z[l]! - (l === doc.label ? 1 : 0)
        bias[l]! -= rate * gradient
        for (const f of doc.features) {
          const at = f * width + l
          weights[at] = weights[at]! * shrink - rate * gradient * scale
        }
      }
    }
  }
  return {
    labels,
    features: [...vocabulary.keys()],
    weights: Array.from(weights, round),
    bias: Array.from(bias, round),
  }
}

/** A trained model laid out for scoring (see `alignLogistic`). */
export type LogisticRows = {
  /** Logits, one per label, of a message given as the rows of its known features. */
  logits(rows: readonly number[]): Float64Array
  /** The weights on the index's rows, row-major (row × labels + label); 0 for unseen rows. */
  rows: Float32Array
  bias: Float64Array
}

/**
 * Lays a trained model out on another vocabulary index and label order (the naive Bayes
 * model's), so one lookup per feature serves both experts. A feature the index lacks is
 * dropped; a row the model never saw scores zero.
 */
export function alignLogistic(
  model: SavedLogistic,
  index: ReadonlyMap<string, number>,
  labels: readonly string[],
): LogisticRows {
  const width = labels.length
  const order = labels.map((label) => model.labels.indexOf(label))
  if (order.some((at) => at < 0)) throw new Error('logistic model: labels do not match')
  // Single precision, like the naive Bayes weights (see `logWeights`); logits sum in double.
  const rows = new Float32Array(index.size * width)
  model.features.forEach((feature, f) => {
    const row = index.get(feature)
    if (row === undefined) return
    for (let l = 0; l < width; l++) rows[row * width + l] = model.weights[f * width + order[l]!]!
  })
  const bias = Float64Array.from(order, (at) => model.bias[at]!)
  return {
    rows,
    bias,
    logits(known) {
      const z = Float64Array.from(bias)
      if (known.length === 0) return z
      // The same unit-length bag of features as in training.
      addRows(z, rows, known, width, 0, 1 / Math.sqrt(known.length))
      return z
    },
  }
}
