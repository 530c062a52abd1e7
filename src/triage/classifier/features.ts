import { forgetWordMemos, type Token, wordMemo } from '../normalize-text.js'

/**
 * Features the classifier sees: every word's stem in the message's language and in the other
 * one (people mix Spanish and English, and short messages are hard to tell apart), and pairs
 * of neighbouring stems within a clause ("no funciona", "dos veces"). Numbers collapse to one
 * feature. Every feature is prefixed so none looks like an array index.
 *
 * Chosen by 5-fold cross-validation on the training split (see `npm run eval`): adding the
 * other language's stems and stem pairs beat unigrams alone, stopword removal and character
 * four-grams.
 */
export function featuresOf(tokens: readonly Token[], language: 'es' | 'en'): string[] {
  const out = new Set<string>()
  let previous: { stem: string; clause: number } | null = null
  for (const token of tokens) {
    const number = /^\d+$/.test(token.word)
    const stem = number ? '#n' : language === 'es' ? token.es[0]! : token.en
    out.add(`u:${stem}`)
    if (!number) {
      out.add(`u:${token.es[0]!}`)
      out.add(`u:${token.en}`)
    }
    if (previous && previous.clause === token.clause) out.add(`b:${previous.stem}_${stem}`)
    previous = { stem, clause: token.clause }
  }
  return [...out]
}

/** Rows of a feature vocabulary, keyed without building feature strings (see `featureRows`). */
export type FeatureLookup = {
  /** stem → row of `u:stem` */
  unigrams: ReadonlyMap<string, number>
  /** row of `u:a` × size + row of `u:b` → row of `b:a_b` */
  bigrams: ReadonlyMap<number, number>
  size: number
  /** Scratch space: the message each row was last seen in (one slot per row). */
  seen: Uint32Array
  message: number
}

/** Splits a vocabulary (feature → row) into the lookup `featureRows` reads. */
export function featureLookup(index: ReadonlyMap<string, number>): FeatureLookup {
  forgetWordMemos()
  const unigrams = new Map<string, number>()
  for (const [feature, row] of index) {
    if (feature.startsWith('u:')) unigrams.set(feature.slice(2), row)
  }
  const size = index.size
  const bigrams = new Map<number, number>()
  for (const [feature, row] of index) {
    if (!feature.startsWith('b:')) continue
    // Stems are [a-z0-9] or "#n": the first "_" is the separator. Both stems of a pair were
    // seen alone in the same training message, so both have a unigram row.
    const at = feature.indexOf('_')
    const first = unigrams.get(feature.slice(2, at))
    const second = unigrams.get(feature.slice(at + 1))
    if (first !== undefined && second !== undefined) bigrams.set(first * size + second, row)
  }
  return { unigrams, bigrams, size, seen: new Uint32Array(size), message: 0 }
}

const DIGITS = /^\d+$/

/**
 * A word's unigram rows: its Spanish and English stems' (a number's one row is `#n`'s). Kept
 * with the word (`wordMemo`): the vocabulary's hash map is read once per distinct word.
 */
const unigramRows = wordMemo((token: Token, lookup: FeatureLookup) => {
  // A number's one stem is itself (normalizeText): test the first character before the rest.
  const first = token.word.charCodeAt(0)
  if (first >= 48 && first <= 57 && DIGITS.test(token.word)) {
    const row = lookup.unigrams.get('#n')
    return { number: true, es: row, en: row }
  }
  return {
    number: false,
    es: lookup.unigrams.get(token.es[0]!),
    en: lookup.unigrams.get(token.en),
  }
})

/**
 * The rows of `featuresOf(tokens, language)` that the vocabulary knows, in the same order,
 * each once: what scoring needs, without building and hashing a string per feature.
 */
export function featureRows(
  tokens: readonly Token[],
  language: 'es' | 'en',
  lookup: FeatureLookup,
): number[] {
  const { bigrams, size, seen } = lookup
  lookup.message = lookup.message === 0xffffffff ? 1 : lookup.message + 1
  if (lookup.message === 1) seen.fill(0)
  const mark = lookup.message
  const rows: number[] = []
  const add = (row: number | undefined) => {
    if (row === undefined || seen[row] === mark) return
    seen[row] = mark
    rows.push(row)
  }
  let previousRow: number | undefined
  let previousClause = -1
  for (const token of tokens) {
    const unigrams = unigramRows(token, lookup)
    const row = unigrams.number || language === 'es' ? unigrams.es : unigrams.en
    add(row)
    if (!unigrams.number) {
      add(unigrams.es)
      add(unigrams.en)
    }
    if (previousClause === token.clause && previousRow !== undefined && row !== undefined) {
      add(bigrams.get(previousRow * size + row))
    }
    previousRow = row
    previousClause = token.clause
  }
  return rows
}

/**
 * Adds each known row's block of weights, times `scale`, to `sums`, in row order: what every
 * expert's scoring sums. Rows are `stride` weights apart; the block is `sums.length` weights
 * from `offset` (several experts' weights of a feature sit side by side).
 */
export function addRows(
  sums: { [label: number]: number; length: number },
  weights: Float32Array,
  rows: readonly number[],
  stride: number,
  offset = 0,
  scale = 1,
): void {
  const width = sums.length
  for (const row of rows) {
    const base = row * stride + offset
    for (let l = 0; l < width; l++) sums[l]! += weights[base + l]! * scale
  }
}

/**
 * The share of a message's content words (three letters or more, not function words, not
 * numbers) whose stem the vocabulary knows, in the message's language; 1 for a message with
 * none. A message mostly of words the model never saw ("what's the capital of Peru?") gets
 * scores that say little: the triage does not take them for an intent.
 */
export function knownShare(
  tokens: readonly Token[],
  language: 'es' | 'en',
  lookup: FeatureLookup,
  isFunctionWord: (word: string) => boolean,
): number {
  let content = 0
  let known = 0
  for (const token of tokens) {
    if (token.word.length < 3 || isFunctionWord(token.word)) continue
    const unigrams = unigramRows(token, lookup)
    if (unigrams.number) continue
    content++
    if ((language === 'es' ? unigrams.es : unigrams.en) !== undefined) known++
  }
  return content === 0 ? 1 : known / content
}
