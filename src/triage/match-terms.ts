import { deletions, withinOneEdit } from './edit-distance.js'
import { type NormalizedText, normalizeText, type Token } from './normalize-text.js'
import type { MatchTarget, Weighted } from './rulebook/schema.js'

export type Lang = 'es' | 'en'
export type TargetGroup = 'intent' | 'signal'

/** One rule term that matched, with where and why; vetoed hits are kept for the explanation. */
export type Hit = {
  group: TargetGroup
  target: string
  lang: Lang
  kind: 'keyword' | 'phrase' | 'pattern'
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

type WordMatcher = { word: string; stems: ReadonlySet<string>; fuzzy: boolean }

type CompiledTerm = {
  group: TargetGroup
  target: string
  lang: Lang
  kind: 'keyword' | 'phrase'
  term: string
  weight: number
  words: WordMatcher[]
}

type CompiledPattern = {
  group: TargetGroup
  target: string
  lang: Lang
  term: string
  weight: number
  regex: RegExp
}

type CompiledTarget = {
  negation: boolean
  exceptions: WordMatcher[][]
}

export type TermIndex = {
  /** `${lang}:${stem}` of a term's first word → the terms starting with it. */
  byStem: Map<string, CompiledTerm[]>
  /** `${lang}:${deletion}` → surface words of at least five letters, for one-typo matches. */
  fuzzy: Map<string, { lang: Lang; word: string }[]>
  /** `${lang}:${word}` → the stems of that surface word (to reach `byStem` from a typo). */
  stemsOfWord: Map<string, readonly string[]>
  patterns: CompiledPattern[]
  targets: Map<string, CompiledTarget>
}

const FUZZY_MIN_LENGTH = 5
const NEGATION_WINDOW = 3
const NEGATORS = new Set([
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
const PHRASE_GAP = 1

function tokenStems(token: Token, lang: Lang): readonly string[] {
  return lang === 'es' ? token.es : [token.en]
}

function compileWords(text: string, lang: Lang): WordMatcher[] {
  return normalizeText(text).tokens.map((token) => ({
    word: token.word,
    stems: new Set(tokenStems(token, lang)),
    fuzzy: token.word.length >= FUZZY_MIN_LENGTH,
  }))
}

const termOf = (entry: Weighted) => (typeof entry === 'string' ? entry : entry.term)

/** Builds the lookup structures for every intent and signal of a rulebook. */
export function compileTerms(
  intents: Partial<Record<string, MatchTarget>>,
  signals: Partial<Record<string, MatchTarget>>,
): TermIndex {
  const index: TermIndex = {
    byStem: new Map(),
    fuzzy: new Map(),
    stemsOfWord: new Map(),
    patterns: [],
    targets: new Map(),
  }
  const addTerm = (term: CompiledTerm) => {
    const first = term.words[0]
    if (!first) return
    for (const stem of first.stems) {
      const key = `${term.lang}:${stem}`
      const list = index.byStem.get(key) ?? []
      list.push(term)
      index.byStem.set(key, list)
    }
    for (const word of term.words) {
      if (!word.fuzzy) continue
      index.stemsOfWord.set(`${term.lang}:${word.word}`, [...word.stems])
      for (const variant of [word.word, ...deletions(word.word)]) {
        const key = `${term.lang}:${variant}`
        const list = index.fuzzy.get(key) ?? []
        if (!list.some((entry) => entry.word === word.word))
          list.push({ lang: term.lang, word: word.word })
        index.fuzzy.set(key, list)
      }
    }
  }
  const groups: [TargetGroup, Partial<Record<string, MatchTarget>>][] = [
    ['intent', intents],
    ['signal', signals],
  ]
  for (const [group, targets] of groups) {
    for (const [target, spec] of Object.entries(targets)) {
      if (!spec) continue
      const exceptions: WordMatcher[][] = []
      for (const lang of ['es', 'en'] as const) {
        const terms = spec[lang]
        for (const entry of [...terms.keywords, ...terms.phrases]) {
          const term = termOf(entry)
          const words = compileWords(term, lang)
          const kind = words.length > 1 ? 'phrase' : 'keyword'
          const weight = typeof entry === 'string' ? (kind === 'phrase' ? 2 : 1) : entry.weight
          addTerm({ group, target, lang, kind, term, weight, words })
        }
        for (const entry of terms.patterns) {
          index.patterns.push({
            group,
            target,
            lang,
            term: termOf(entry),
            weight: typeof entry === 'string' ? 2 : entry.weight,
            regex: new RegExp(termOf(entry), 'g'),
          })
        }
        for (const exception of terms.exceptions) exceptions.push(compileWords(exception, lang))
      }
      index.targets.set(`${group}:${target}`, { negation: spec.negation, exceptions })
    }
  }
  return index
}

function wordMatches(token: Token, matcher: WordMatcher, lang: Lang): 'exact' | 'fuzzy' | null {
  for (const stem of tokenStems(token, lang)) if (matcher.stems.has(stem)) return 'exact'
  if (
    matcher.fuzzy &&
    token.word.length >= FUZZY_MIN_LENGTH &&
    withinOneEdit(token.word, matcher.word)
  ) {
    return 'fuzzy'
  }
  return null
}

/** Matches the rest of a phrase after its first word; returns the last index or -1. */
function matchRest(
  tokens: readonly Token[],
  start: number,
  words: readonly WordMatcher[],
  lang: Lang,
): { end: number; fuzzy: boolean } | null {
  let position = start
  let fuzzy = false
  for (let w = 1; w < words.length; w++) {
    let found = -1
    for (
      let next = position + 1;
      next <= position + 1 + PHRASE_GAP && next < tokens.length;
      next++
    ) {
      if (tokens[next]!.clause !== tokens[start]!.clause) break
      const kind = wordMatches(tokens[next]!, words[w]!, lang)
      if (kind) {
        found = next
        fuzzy ||= kind === 'fuzzy'
        break
      }
    }
    if (found < 0) return null
    position = found
  }
  return { end: position, fuzzy }
}

/** Candidate terms whose first word is this token: by stem, or by a one-typo surface match. */
function candidatesFor(index: TermIndex, token: Token): { term: CompiledTerm; fuzzy: boolean }[] {
  const out: { term: CompiledTerm; fuzzy: boolean }[] = []
  for (const lang of ['es', 'en'] as const) {
    for (const stem of tokenStems(token, lang)) {
      for (const term of index.byStem.get(`${lang}:${stem}`) ?? []) out.push({ term, fuzzy: false })
    }
  }
  if (out.length > 0 || token.word.length < FUZZY_MIN_LENGTH) return out
  const seen = new Set<string>()
  for (const lang of ['es', 'en'] as const) {
    for (const variant of [token.word, ...deletions(token.word)]) {
      for (const entry of index.fuzzy.get(`${lang}:${variant}`) ?? []) {
        const key = `${lang}:${entry.word}`
        if (seen.has(key) || !withinOneEdit(token.word, entry.word)) continue
        seen.add(key)
        for (const stem of index.stemsOfWord.get(key) ?? []) {
          for (const term of index.byStem.get(`${lang}:${stem}`) ?? []) {
            if (term.words[0]?.word === entry.word) out.push({ term, fuzzy: true })
          }
        }
      }
    }
  }
  return out
}

function isNegated(tokens: readonly Token[], at: number): string | null {
  const clause = tokens[at]!.clause
  for (let i = at - 1; i >= 0 && i >= at - NEGATION_WINDOW; i--) {
    const token = tokens[i]!
    if (token.clause !== clause) break
    if (NEGATORS.has(token.word)) return token.word
  }
  return null
}

function exceptionIn(
  tokens: readonly Token[],
  clause: number,
  exceptions: readonly WordMatcher[][],
): string | null {
  for (const words of exceptions) {
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i]!.clause !== clause) continue
      for (const lang of ['es', 'en'] as const) {
        if (!wordMatches(tokens[i]!, words[0]!, lang)) continue
        if (words.length === 1 || matchRest(tokens, i, words, lang)) {
          return words.map((w) => w.word).join(' ')
        }
      }
    }
  }
  return null
}

/** Regular expressions run on at most this much folded text, so no pattern runs unbounded. */
export const PATTERN_INPUT_LIMIT = 4000

/** Every rule term found in the text. Pure; hits that a negation or exception cancels are marked. */
export function matchTerms(index: TermIndex, text: NormalizedText): Hit[] {
  const { tokens } = text
  const hits: Hit[] = []
  for (let i = 0; i < tokens.length; i++) {
    for (const { term, fuzzy } of candidatesFor(index, tokens[i]!)) {
      const rest =
        term.words.length > 1
          ? matchRest(tokens, i, term.words, term.lang)
          : { end: i, fuzzy: false }
      if (!rest) continue
      hits.push({
        group: term.group,
        target: term.target,
        lang: term.lang,
        kind: term.kind,
        term: term.term,
        matched: tokens
          .slice(i, rest.end + 1)
          .map((t) => t.word)
          .join(' '),
        clause: tokens[i]!.clause,
        position: i,
        weight: term.weight,
        fuzzy: fuzzy || rest.fuzzy,
      })
    }
  }
  const folded = text.folded.slice(0, PATTERN_INPUT_LIMIT)
  for (const pattern of index.patterns) {
    pattern.regex.lastIndex = 0
    const match = pattern.regex.exec(folded)
    if (!match) continue
    hits.push({
      group: pattern.group,
      target: pattern.target,
      lang: pattern.lang,
      kind: 'pattern',
      term: pattern.term,
      matched: match[0],
      clause: folded.slice(0, match.index).split(' | ').length - 1,
      position: -1,
      weight: pattern.weight,
      fuzzy: false,
    })
  }
  for (const hit of hits) {
    const target = index.targets.get(`${hit.group}:${hit.target}`)
    if (!target) continue
    if (target.negation && hit.position >= 0) {
      const negator = isNegated(tokens, hit.position)
      if (negator) {
        hit.vetoed = `negated by "${negator}"`
        continue
      }
    }
    const exception = exceptionIn(tokens, hit.clause, target.exceptions)
    if (exception) hit.vetoed = `exception "${exception}"`
  }
  return hits
}

/** Sum of the weights of distinct, non-vetoed terms per target. */
export function scoreHits(hits: readonly Hit[], group: TargetGroup): Map<string, number> {
  const seen = new Set<string>()
  const scores = new Map<string, number>()
  for (const hit of hits) {
    if (hit.group !== group || hit.vetoed) continue
    const key = `${hit.target}\u0000${hit.term}`
    if (seen.has(key)) continue
    seen.add(key)
    scores.set(hit.target, (scores.get(hit.target) ?? 0) + hit.weight)
  }
  return scores
}
