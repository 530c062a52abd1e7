import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js'
import { detectLanguage } from '../detect-language.js'
import { normalizeText } from '../normalize-text.js'
import { type IntentId, SIGNALS, type SignalId } from '../rulebook/schema.js'
import type { IntentClassifier } from '../triage.js'
import { type CompiledModel, compiledScorer, MODEL_VERSION } from './compiled-model.js'
import type { CorpusRow } from './corpus.js'
import { featuresOf } from './features.js'
import { alignLogistic, LOGISTIC_DEFAULTS, type SavedLogistic, trainLogistic } from './logistic.js'

/**
 * Softmax temperature. Naive Bayes is overconfident (it counts correlated words as independent
 * evidence); 4 gave the lowest log-loss in 5-fold cross-validation on the training split.
 */
export const DEFAULT_TEMPERATURE = 4

/**
 * Weight of an unseen feature (natural's default is 1). Small values let the rare, telling
 * words of a short message count; 0.05 was best in 5-fold cross-validation on the training split.
 */
export const SMOOTHING = 0.05

/** What natural's BayesClassifier keeps after training (its training documents dropped). */
type NaturalDump = {
  features: Record<string, number>
  classifier: {
    classFeatures: Record<string, Record<string, number>>
    classTotals: Record<string, number>
    totalExamples: number
    smoothing: number
  }
}

/** The trained models as cached: natural's own serialization plus our calibration. */
export type SavedModel = {
  version: string
  corpusHash: string
  temperature: number
  /** Intent model, trained on every row. */
  intents: NaturalDump
  /** Second intent expert, on the same features (see `logistic.ts`). */
  logistic: SavedLogistic
  /** One yes/no model per L3 signal, trained on the complaint and legal rows. */
  signals: Partial<Record<SignalId, NaturalDump>>
}

// natural's features are passed as ready-made arrays, so its own stemmer is never used.
const identity = { tokenizeAndStem: (text: string) => text.split(' ') }

function trainNatural(docs: readonly { features: string[]; label: string }[]): NaturalDump {
  const classifier = new BayesClassifier(identity, SMOOTHING)
  for (const doc of docs) classifier.addDocument(doc.features, doc.label)
  // natural turns each document into a 0/1 vector by looking every vocabulary entry up in the
  // document (vocabulary × words per document): ten seconds on this corpus. The same vectors,
  // in the same (insertion) order, from an index of the vocabulary: a fraction of a second.
  let index: Map<string, number> | null = null
  classifier.textToFeatures = (observation) => {
    index ??= new Map(Object.keys(classifier.features).map((feature, i) => [feature, i]))
    const vector = new Array<number>(index.size).fill(0)
    for (const feature of observation) {
      const at = index.get(feature)
      if (at !== undefined) vector[at] = 1
    }
    return vector
  }
  classifier.train()
  const { features, classifier: counts } = JSON.parse(JSON.stringify(classifier)) as NaturalDump
  return { features, classifier: counts }
}

/**
 * Trains the intent models (natural's naive Bayes and the logistic regression) and natural's
 * per-signal models on the rows (for evaluation: the training split only).
 */
export function trainModel(
  rows: readonly CorpusRow[],
  corpusHash: string,
  temperature = DEFAULT_TEMPERATURE,
): SavedModel {
  const docs = rows.map((row) => ({
    row,
    features: featuresOf(normalizeText(row.text).tokens, row.lang),
  }))
  const labelled = docs.map((d) => ({ features: d.features, label: d.row.intent }))
  const intents = trainNatural(labelled)
  const logistic = trainLogistic(labelled, LOGISTIC_DEFAULTS)
  const grievances = docs.filter((d) => d.row.intent === 'complaint' || d.row.intent === 'legal')
  const signals: SavedModel['signals'] = {}
  for (const signal of SIGNALS) {
    const labelled = grievances.map((d) => ({
      features: d.features,
      label: d.row.signals?.includes(signal) ? 'yes' : 'no',
    }))
    if (labelled.some((d) => d.label === 'yes') && labelled.some((d) => d.label === 'no')) {
      signals[signal] = trainNatural(labelled)
    }
  }
  return { version: MODEL_VERSION, corpusHash, temperature, intents, logistic, signals }
}

/**
 * Reads a natural dump as log weights, for sparse scoring. natural's own `getClassifications`
 * multiplies probabilities (exp of a sum of logs), which underflows to zero on long emails, and
 * builds a dense vector over the whole vocabulary for every message.
 */
function logWeightsOf(dump: NaturalDump): {
  labels: string[]
  /** Each feature's row (its position in the vocabulary); unknown features are left out. */
  index: ReadonlyMap<string, number>
  priors: readonly number[]
  /** log P(feature | label), feature-major: row × labels + label. */
  weights: Float32Array
} {
  const index = new Map<string, number>()
  let i = 0
  for (const feature of Object.keys(dump.features)) index.set(feature, i++)
  const labels = Object.keys(dump.classifier.classFeatures)
  const { priors, weights } = logWeights(dump, labels, index.size)
  return { labels, index, priors, weights }
}

/**
 * log(count / total) for every (feature, label), feature-major so one feature's weights are
 * adjacent in memory; a label that never saw a feature gets the smoothing. (A function of its
 * own, so the scorer keeps these arrays and not natural's counts.)
 */
function logWeights(
  dump: NaturalDump,
  labels: readonly string[],
  size: number,
): { priors: number[]; weights: Float32Array } {
  const width = labels.length
  const { classFeatures, classTotals, totalExamples, smoothing } = dump.classifier
  const priors = labels.map((label) => Math.log(classTotals[label]! / totalExamples))
  // Single precision: a message's scoring reads a few dozen rows scattered over the whole
  // vocabulary, and half the bytes is half the cache lines it waits for (docs/performance.md).
  // Sums stay in double precision; every decision and explanation of the corpus and
  // validation rows came out identical, and so did every `npm run eval` figure.
  const weights = new Float32Array(size * width)
  labels.forEach((label, l) => {
    const logTotal = Math.log(classTotals[label]!)
    const unseen = Math.log(smoothing) - logTotal
    for (let f = 0; f < size; f++) weights[f * width + l] = unseen
    for (const [feature, count] of Object.entries(classFeatures[label]!)) {
      weights[Number(feature) * width + l] = Math.log(count) - logTotal
    }
  })
  return { priors, weights }
}

/** Lays a trained model out for scoring. */
export function compileModel(model: SavedModel): CompiledModel {
  const intents = logWeightsOf(model.intents)
  const regression = alignLogistic(model.logistic, intents.index, intents.labels)
  const width = intents.labels.length
  const size = intents.index.size
  // Both experts' weights of a feature side by side (Bayes, then the regression): a message's
  // scoring reads a few dozen rows scattered over the vocabulary, one place each instead of two.
  const experts = new Float32Array(size * 2 * width)
  for (let row = 0; row < size; row++) {
    for (let l = 0; l < width; l++) {
      experts[row * 2 * width + l] = intents.weights[row * width + l]!
      experts[row * 2 * width + width + l] = regression.rows[row * width + l]!
    }
  }
  // Signal models were trained on a subset of the rows, so their vocabulary is part of the
  // intents'. Their weights are laid out on the intents' rows, all signals side by side; a row
  // a signal model never saw weighs 0 for it, which adds nothing, as leaving it out did.
  const signals = Object.entries(model.signals).map(([signal, dump]) => ({
    signal: signal as SignalId,
    scorer: logWeightsOf(dump),
  }))
  const signalWidth = signals.length * 2
  const signalWeights = new Float32Array(size * signalWidth)
  signals.forEach(({ scorer }, s) => {
    if (scorer.labels.length !== 2) throw new Error('signal model: labels are not yes and no')
    for (const [feature, own] of scorer.index) {
      const row = intents.index.get(feature)
      if (row === undefined) continue
      signalWeights[row * signalWidth + s * 2] = scorer.weights[own * 2]!
      signalWeights[row * signalWidth + s * 2 + 1] = scorer.weights[own * 2 + 1]!
    }
  })
  return {
    version: model.version,
    corpusHash: model.corpusHash,
    temperature: model.temperature,
    labels: intents.labels,
    features: [...intents.index.keys()],
    priors: [...intents.priors],
    bias: [...regression.bias],
    experts,
    signals: signals.map(({ signal, scorer }) => ({
      signal,
      priors: [...scorer.priors],
      yes: scorer.labels.indexOf('yes'),
    })),
    signalWeights,
  }
}

/**
 * The classifier the triage uses, built from a trained (or cached) model. The two intent
 * experts are multiplied (geometric mean of their probabilities): naive Bayes, calibrated by
 * its temperature, and the logistic regression. In 5-fold cross-validation on the training
 * split the pair beat either alone (triage macro-F1 0.920 with Bayes alone, 0.909 with the
 * regression alone, 0.935 with both).
 */
export function modelScorer(model: SavedModel): IntentClassifier {
  return compiledScorer(compileModel(model))
}

/** Classifies raw text with a scorer (tools and evaluation). */
export function scoreText(scorer: IntentClassifier, text: string): Map<IntentId, number> {
  const { tokens } = normalizeText(text)
  return scorer.scores(tokens, detectLanguage(tokens, text).language)
}
