import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js'
import { detectLanguage } from '../detect-language.js'
import { normalizeText, type Token } from '../normalize-text.js'
import { type IntentId, SIGNALS, type SignalId } from '../rulebook/schema.js'
import type { IntentClassifier } from '../triage.js'
import type { CorpusRow } from './corpus.js'
import { featuresOf } from './features.js'

/** Bumped whenever features or training change, so cached models are retrained. */
export const MODEL_VERSION = 'bayes-4'

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

/** Trains natural's naive Bayes classifiers on the rows (for evaluation: the training split only). */
export function trainBayes(
  rows: readonly CorpusRow[],
  corpusHash: string,
  temperature = DEFAULT_TEMPERATURE,
): SavedModel {
  const docs = rows.map((row) => ({
    row,
    features: featuresOf(normalizeText(row.text).tokens, row.lang),
  }))
  const intents = trainNatural(docs.map((d) => ({ features: d.features, label: d.row.intent })))
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
  return { version: MODEL_VERSION, corpusHash, temperature, intents, signals }
}

/**
 * Reads a natural dump sparsely in log space. natural's own `getClassifications` multiplies
 * probabilities (exp of a sum of logs), which underflows to zero on long emails, and builds a
 * dense vector over the whole vocabulary for every message.
 */
function logScorer(dump: NaturalDump): {
  labels: string[]
  score(features: readonly string[]): number[]
} {
  const index = new Map<string, number>()
  let i = 0
  for (const feature of Object.keys(dump.features)) index.set(feature, i++)
  const labels = Object.keys(dump.classifier.classFeatures)
  const width = labels.length
  const { classFeatures, classTotals, totalExamples, smoothing } = dump.classifier
  const priors = labels.map((label) => Math.log(classTotals[label]! / totalExamples))
  // log(count / total) for every (feature, label), feature-major so one feature's weights are
  // adjacent in memory; a label that never saw a feature gets the smoothing.
  const weights = new Float64Array(index.size * width)
  labels.forEach((label, l) => {
    const logTotal = Math.log(classTotals[label]!)
    const unseen = Math.log(smoothing) - logTotal
    for (let f = 0; f < index.size; f++) weights[f * width + l] = unseen
    for (const [feature, count] of Object.entries(classFeatures[label]!)) {
      weights[Number(feature) * width + l] = Math.log(count) - logTotal
    }
  })
  return {
    labels,
    score(features) {
      const logits = priors.slice()
      for (const feature of features) {
        const at = index.get(feature)
        if (at === undefined) continue
        const base = at * width
        for (let l = 0; l < width; l++) logits[l]! += weights[base + l]!
      }
      return logits
    },
  }
}

function softmax(logits: readonly number[], temperature: number): number[] {
  let max = Number.NEGATIVE_INFINITY
  for (const v of logits) if (v > max) max = v
  const exps = logits.map((v) => Math.exp((v - max) / temperature))
  const sum = exps.reduce((a, b) => a + b, 0)
  return exps.map((e) => e / sum)
}

/** The classifier the triage uses, built from a trained (or cached) model. */
export function bayesScorer(model: SavedModel): IntentClassifier {
  const intents = logScorer(model.intents)
  const signals = Object.entries(model.signals).map(([signal, dump]) => ({
    signal: signal as SignalId,
    scorer: logScorer(dump),
  }))
  const temperature = model.temperature
  const vocabulary = Object.keys(model.intents.features).length
  // The triage asks for intents and then signals of the same tokens: compute features once.
  let last: { tokens: readonly Token[]; language: string; features: string[] } | null = null
  const featuresFor = (tokens: readonly Token[], language: 'es' | 'en') => {
    if (last?.tokens !== tokens || last.language !== language)
      last = { tokens, language, features: featuresOf(tokens, language) }
    return last.features
  }
  return {
    name: `naive Bayes (natural, ${intents.labels.length} intents, ${vocabulary} features)`,
    scores(tokens: readonly Token[], language: 'es' | 'en') {
      const probabilities = softmax(intents.score(featuresFor(tokens, language)), temperature)
      return new Map(intents.labels.map((label, l) => [label as IntentId, probabilities[l]!]))
    },
    signalScores(tokens: readonly Token[], language: 'es' | 'en') {
      const features = featuresFor(tokens, language)
      const out = new Map<SignalId, number>()
      for (const { signal, scorer } of signals) {
        const probabilities = softmax(scorer.score(features), temperature)
        out.set(signal, probabilities[scorer.labels.indexOf('yes')] ?? 0)
      }
      return out
    },
  }
}

/** Classifies raw text with a scorer (tools and evaluation). */
export function scoreText(scorer: IntentClassifier, text: string): Map<IntentId, number> {
  const { tokens } = normalizeText(text)
  return scorer.scores(tokens, detectLanguage(tokens, text).language)
}
