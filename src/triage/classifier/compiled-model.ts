import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import type { Token } from '../normalize-text.js'
import type { IntentId, SignalId } from '../rulebook/schema.js'
import { STOPWORDS } from '../stopwords.js'
import type { IntentClassifier } from '../triage.js'
import { addRows, featureLookup, featureRows, knownShare } from './features.js'

// The trained classifier as the triage uses it, and its cache file (training is `bayes.ts`).

/** Bumped whenever features or training change, so cached models are retrained. */
export const MODEL_VERSION = 'nb-lr-1'

/**
 * A model as the scorer reads it, and as the cache keeps it: the vocabulary in row order, and
 * both intent experts' weights and the signal models' weights laid out by row. Loading it
 * builds nothing per feature but the vocabulary's lookup. (The cache used to be natural's dumps
 * as JSON, whose loading kept several times the model's size in memory after garbage
 * collection.)
 */
export type CompiledModel = {
  version: string
  corpusHash: string
  temperature: number
  /** Intent labels, in the order of every weight row. */
  labels: string[]
  features: string[]
  /** log P(label) of the naive Bayes expert. */
  priors: number[]
  /** The regression's bias per label. */
  bias: number[]
  /** Per row: the Bayes weights of every label, then the regression's. */
  experts: Float32Array
  /** Signal models: their priors (in their own label order) and which label is "yes". */
  signals: { signal: SignalId; priors: number[]; yes: number }[]
  /** Per row: each signal model's two weights, signals side by side. */
  signalWeights: Float32Array
  /** What it was trained on besides the corpus (a model trained on corrections says which). */
  origin?: string
}

/** The scorer of a compiled model (see `modelScorer` in `bayes.ts` for how it combines). */
export function compiledScorer(model: CompiledModel): IntentClassifier {
  const { labels, experts, signalWeights } = model
  const width = labels.length
  const index = new Map<string, number>()
  for (let row = 0; row < model.features.length; row++) index.set(model.features[row]!, row)
  const size = index.size
  if (
    experts.length !== size * 2 * width ||
    signalWeights.length !== size * 2 * model.signals.length
  )
    throw new Error('classifier model: weights do not match the vocabulary')
  const signals = model.signals.map((s, at) => ({ ...s, at: at * 2 }))
  const signalWidth = signals.length * 2
  const temperature = model.temperature
  const vocabulary = size
  // The triage asks for intents and then signals of the same tokens: compute features once.
  // Looking features up is the costliest step (each is a new string to hash): once per message.
  const lookup = featureLookup(index)
  let last: { tokens: readonly Token[]; language: string; rows: number[] } | null = null
  const rowsFor = (tokens: readonly Token[], language: 'es' | 'en') => {
    if (last?.tokens !== tokens || last.language !== language)
      last = { tokens, language, rows: featureRows(tokens, language, lookup) }
    return last.rows
  }
  return {
    name: modelName(width, vocabulary, model.origin),
    scores(tokens: readonly Token[], language: 'es' | 'en') {
      const rows = rowsFor(tokens, language)
      const bayes = model.priors.slice()
      const logits = Float64Array.from(model.bias)
      // The regression sees the same unit-length bag of features as in training.
      const scale = rows.length > 0 ? 1 / Math.sqrt(rows.length) : 0
      addRows(bayes, experts, rows, 2 * width)
      addRows(logits, experts, rows, 2 * width, width, scale)
      const mixed = bayes.map((v, l) => (v / temperature + logits[l]!) / 2)
      const probabilities = softmax(mixed, 1)
      return new Map(labels.map((label, l) => [label as IntentId, probabilities[l]!]))
    },
    knownShare: (tokens, language) =>
      knownShare(tokens, language, lookup, (word) => STOPWORDS.has(word)),
    signalScores(tokens: readonly Token[], language: 'es' | 'en') {
      const rows = rowsFor(tokens, language)
      const sums = signals.flatMap(({ priors }) => priors)
      addRows(sums, signalWeights, rows, signalWidth)
      const out = new Map<SignalId, number>()
      for (const { signal, yes, at } of signals) {
        const probabilities = softmax([sums[at]!, sums[at + 1]!], temperature)
        out.set(signal, probabilities[yes] ?? 0)
      }
      return out
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

/** The name a model's scorer goes by (explanations say which model decided). */
function modelName(intents: number, vocabulary: number, origin?: string): string {
  return `naive Bayes (natural) × logistic regression (${intents} intents, ${vocabulary} features${origin ? `; ${origin}` : ''})`
}

type Header = Omit<CompiledModel, 'features' | 'experts' | 'signalWeights'> & {
  sizes: [number, number, number]
}

/**
 * What a cache file says about its model, read from its first line only: the version, the
 * corpus it was trained on and its scorer's name. Throws when the file has no such line.
 */
export function modelHeader(file: string): { version: string; corpusHash: string; name: string } {
  const fd = openSync(file, 'r')
  try {
    const start = Buffer.alloc(64 * 1024)
    const read = readSync(fd, start, 0, start.length, 0)
    const end = start.subarray(0, read).indexOf(10)
    if (end < 0) throw new Error('classifier cache: no header')
    const header = JSON.parse(start.toString('utf8', 0, end)) as Header
    const vocabulary = header.sizes[1] / (2 * header.labels.length)
    return {
      version: header.version,
      corpusHash: header.corpusHash,
      name: modelName(header.labels.length, vocabulary, header.origin),
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * The classifier a cache file holds, if it is of this model version (and, when given, trained
 * on the corpus with that hash). Throws when the file cannot be read or is not a model.
 */
export function classifierFromFile(file: string, corpusHash?: string): IntentClassifier | null {
  const model = decodeModel(readFileSync(file))
  if (model.version !== MODEL_VERSION) return null
  if (corpusHash !== undefined && model.corpusHash !== corpusHash) return null
  return { ...compiledScorer(model), file }
}

/** The classifier of an encoded model (`encodeModel`) held in memory, if of this model version. */
export function classifierFromBuffer(buffer: Buffer): IntentClassifier | null {
  const model = decodeModel(buffer)
  return model.version === MODEL_VERSION ? compiledScorer(model) : null
}

/**
 * A classifier whose model is read from `file` the first time it is asked for (a hub whose text
 * analysis runs on a thread seldom needs one on its own thread). `name` is the model's
 * (`modelHeader`), and a file gone bad is read by `fallback`.
 */
export function lazyClassifier(
  file: string,
  name: string,
  fallback: () => IntentClassifier,
): IntentClassifier {
  let model: IntentClassifier | null = null
  const load = () => {
    if (model) return model
    try {
      model = classifierFromFile(file)
    } catch {}
    model ??= fallback()
    return model
  }
  return {
    name,
    file,
    scores: (tokens, language) => load().scores(tokens, language),
    signalScores: (tokens, language) => load().signalScores!(tokens, language),
    knownShare: (tokens, language) => load().knownShare!(tokens, language),
  }
}

// The cache file: one line of JSON (everything but the vocabulary and the weights, with their
// sizes), the vocabulary one feature a line, then the two weight arrays as raw float32 in the
// machine's byte order (the cache is written and read on the same machine).

export function encodeModel(model: CompiledModel): Buffer {
  const { features, experts, signalWeights, ...rest } = model
  const vocabulary = Buffer.from(features.join('\n'), 'utf8')
  const header = JSON.stringify({
    ...rest,
    sizes: [vocabulary.length, experts.length, signalWeights.length],
  })
  return Buffer.concat([
    Buffer.from(`${header}\n`, 'utf8'),
    vocabulary,
    Buffer.from(experts.buffer, experts.byteOffset, experts.byteLength),
    Buffer.from(signalWeights.buffer, signalWeights.byteOffset, signalWeights.byteLength),
  ])
}

function decodeModel(file: Buffer): CompiledModel {
  const end = file.indexOf(10)
  if (end < 0) throw new Error('classifier cache: no header')
  const { sizes, ...rest } = JSON.parse(file.toString('utf8', 0, end)) as Header
  const [vocabularyBytes, experts, signalWeights] = sizes
  let at = end + 1
  const features =
    vocabularyBytes === 0 ? [] : file.toString('utf8', at, at + vocabularyBytes).split('\n')
  at += vocabularyBytes
  // Copied out (ArrayBuffer.slice): a float32 view must start on a multiple of four.
  const floats = (count: number) => {
    const bytes = count * 4
    if (at + bytes > file.length) throw new Error('classifier cache: truncated')
    const out = new Float32Array(
      file.buffer.slice(file.byteOffset + at, file.byteOffset + at + bytes),
    )
    at += bytes
    return out
  }
  const model = {
    ...rest,
    features,
    experts: floats(experts),
    signalWeights: floats(signalWeights),
  }
  if (at !== file.length) throw new Error('classifier cache: trailing bytes')
  return model
}
