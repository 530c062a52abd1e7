import { normalizeText, type Token } from './normalize-text.js'
import type { Weighted } from './rulebook/schema.js'

// The rulebook's terms compiled for matching: the index's shape and the word helpers
// compiling and matching share.

export type Lang = 'es' | 'en'
export type TargetGroup = 'intent' | 'signal' | 'act'
export type HitKind = 'keyword' | 'word' | 'phrase' | 'pattern' | 'together' | 'mention'

/** One rule term that matched, with where and why; vetoed hits are kept for the explanation. */
export type Hit = {
  group: TargetGroup
  target: string
  lang: Lang
  kind: HitKind
  term: string
  /** The words of the message that matched. */
  matched: string
  clause: number
  /** Index of the first matched token (-1 for a pattern). */
  position: number
  weight: number
  /** A word matched with one typo. */
  fuzzy: boolean
  /** Why the hit does not count: a negation before it, or an exception in its clause. */
  vetoed?: string
}

/**
 * How one word of a term is recognised: by its stems, or — for stems too short to be
 * telling ("pag", "su") and for `words:` entries — only by its exact folded form. A keyword
 * or phrase word of five letters or more also matches with one typo; a `words:` entry never
 * does, since one letter is what it tells apart ("me quemé" is an injury, "me quedé" is not).
 */
export type WordMatcher = { word: string; stems: ReadonlySet<string> | null; fuzzy: boolean }

export type CompiledTerm = {
  group: TargetGroup
  target: string
  lang: Lang
  kind: 'keyword' | 'word' | 'phrase'
  term: string
  weight: number
  words: WordMatcher[]
}

export type CompiledPattern = {
  group: TargetGroup
  target: string
  lang: Lang
  term: string
  weight: number
  regex: RegExp
}

export type CompiledTogether = {
  group: TargetGroup
  target: string
  lang: Lang
  term: string
  weight: number
  lists: ReadonlySet<string>[]
}

export type CompiledTarget = {
  negation: boolean
  exceptions: { lang: Lang; words: WordMatcher[] }[]
}

export type TermIndex = {
  /** Lookup key of a term's first word (`s:es:demand`, `w:en:sue`) → the terms starting with it. */
  byKey: Map<string, CompiledTerm[]>
  /** `${lang}:${deletion}` → surface words of five letters or more, for one-typo matches. */
  fuzzy: Map<string, { lang: Lang; word: string; keys: string[] }[]>
  patterns: CompiledPattern[]
  together: CompiledTogether[]
  /** A word of a `together` list → which rule and list it belongs to (one pass per message). */
  togetherWords: Map<string, { rule: number; list: number }[]>
  targets: Map<string, CompiledTarget>
  /** How a token is tested against the words phrases and exceptions go on with. */
  later: LaterWords
}

/**
 * The words of phrases after their first, and every word of exceptions, indexed the way
 * `wordMatches` recognises them: a token finds the few it matches with a handful of lookups,
 * once per distinct word (`laterMatches`), instead of being compared with each.
 */
export type LaterWords = {
  /** A Spanish word's stem → the words that match it. */
  es: Map<string, WordMatcher[]>
  /** An English word's stem → the words that match it. */
  en: Map<string, WordMatcher[]>
  /** The exact form, for words matched by it alone. */
  words: Map<string, WordMatcher[]>
  /** A typo-tolerant word and each of its one-letter deletions → the word. */
  fuzzy: Map<string, WordMatcher[]>
}

export type Candidate = { term: CompiledTerm; fuzzy: boolean }

export const FUZZY_MIN_LENGTH = 5
export const HAS_DIGIT = /\d/
/** Stems shorter than this say too little ("pag", "su", "dan"): such words match exactly. */
export const MIN_STEM_LENGTH = 4
export const NEGATION_WINDOW = 3
/** Object pronouns in a row after a negation ("no se lo"), skipped when measuring its reach. */
export const MAX_CLITICS = 2
export const PHRASE_GAP = 1
export const NEGATORS = new Set([
  'no',
  'nunca',
  'jamas',
  'ni',
  'tampoco',
  'sin',
  'not',
  'never',
  'without',
  'nor',
])

// Function words of one language never match terms of the other ("su" is not "sue").
export const FUNCTION_WORDS: Record<Lang, ReadonlySet<string>> = {
  es: new Set(
    'de la que el en y los se del las un por con una su al lo como mas pero sus le ya o este si porque esta entre cuando muy sin sobre mi tu nos da dan den fue son era hay ha he'.split(
      ' ',
    ),
  ),
  en: new Set(
    'the and to of in is it you that for on my with be are was at or an we us our your they them he she his her this do does did have has had will would can could should not yes so if but as by from'.split(
      ' ',
    ),
  ),
}

export function speaks(token: Token, lang: Lang): boolean {
  const other: Lang = lang === 'es' ? 'en' : 'es'
  return !(FUNCTION_WORDS[other].has(token.word) && !FUNCTION_WORDS[lang].has(token.word))
}

export function tokenStems(token: Token, lang: Lang): readonly string[] {
  return lang === 'es' ? token.es : [token.en]
}

export function matcherKeys(matcher: WordMatcher, lang: Lang): string[] {
  return matcher.stems
    ? [...matcher.stems].map((s) => `s:${lang}:${s}`)
    : [`w:${lang}:${matcher.word}`]
}

export function tokenKeys(token: Token, lang: Lang): string[] {
  return [...tokenStems(token, lang).map((s) => `s:${lang}:${s}`), `w:${lang}:${token.word}`]
}

export function compileWords(text: string, lang: Lang, exact: boolean): WordMatcher[] {
  return normalizeText(text).tokens.map((token) => {
    const stems = tokenStems(token, lang).filter((s) => s.length >= MIN_STEM_LENGTH)
    return {
      word: token.word,
      stems: exact || stems.length === 0 ? null : new Set(stems),
      fuzzy: !exact && token.word.length >= FUZZY_MIN_LENGTH,
    }
  })
}

export const termOf = (entry: Weighted) => (typeof entry === 'string' ? entry : entry.term)
export const weightOf = (entry: Weighted, fallback: number) =>
  typeof entry === 'string' ? fallback : entry.weight

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** A Spanish participle or adjective in -ado/-ido, any gender and number: "hundid" + "o". */
export const PARTICIPLE = /^(.{2,}[ai]d)(?:o|a|os|as)$/
/**
 * The forms a `together` word stands for in Spanish: itself, and for a participle (-ado, -ido)
 * its other gender and number, so "hundido" also finds "la puerta hundida" and "rayado" finds
 * "espejos rayados". Only participles: "rompió" and "rompía" are different words.
 */
export function genders(word: string): string[] {
  const stem = PARTICIPLE.exec(word)?.[1]
  return stem ? [`${stem}o`, `${stem}a`, `${stem}os`, `${stem}as`] : [word]
}
