import { fold } from '../kit/fold.js'
import { deletions, withinOneEdit } from './edit-distance.js'
import {
  forgetWordMemos,
  type NormalizedText,
  normalizeText,
  type Token,
  wordMemo,
} from './normalize-text.js'
import type { MatchTarget, Weighted } from './rulebook/schema.js'

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
type WordMatcher = { word: string; stems: ReadonlySet<string> | null; fuzzy: boolean }

type CompiledTerm = {
  group: TargetGroup
  target: string
  lang: Lang
  kind: 'keyword' | 'word' | 'phrase'
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

type CompiledTogether = {
  group: TargetGroup
  target: string
  lang: Lang
  term: string
  weight: number
  lists: ReadonlySet<string>[]
}

type CompiledTarget = { negation: boolean; exceptions: { lang: Lang; words: WordMatcher[] }[] }

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
type LaterWords = {
  /** A Spanish word's stem → the words that match it. */
  es: Map<string, WordMatcher[]>
  /** An English word's stem → the words that match it. */
  en: Map<string, WordMatcher[]>
  /** The exact form, for words matched by it alone. */
  words: Map<string, WordMatcher[]>
  /** A typo-tolerant word and each of its one-letter deletions → the word. */
  fuzzy: Map<string, WordMatcher[]>
}

type Candidate = { term: CompiledTerm; fuzzy: boolean }

const FUZZY_MIN_LENGTH = 5
const HAS_DIGIT = /\d/
/** Stems shorter than this say too little ("pag", "su", "dan"): such words match exactly. */
const MIN_STEM_LENGTH = 4
const NEGATION_WINDOW = 3
/** Object pronouns in a row after a negation ("no se lo"), skipped when measuring its reach. */
const MAX_CLITICS = 2
const PHRASE_GAP = 1
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

// Function words of one language never match terms of the other ("su" is not "sue").
const FUNCTION_WORDS: Record<Lang, ReadonlySet<string>> = {
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

function speaks(token: Token, lang: Lang): boolean {
  const other: Lang = lang === 'es' ? 'en' : 'es'
  return !(FUNCTION_WORDS[other].has(token.word) && !FUNCTION_WORDS[lang].has(token.word))
}

function tokenStems(token: Token, lang: Lang): readonly string[] {
  return lang === 'es' ? token.es : [token.en]
}

function matcherKeys(matcher: WordMatcher, lang: Lang): string[] {
  return matcher.stems
    ? [...matcher.stems].map((s) => `s:${lang}:${s}`)
    : [`w:${lang}:${matcher.word}`]
}

function tokenKeys(token: Token, lang: Lang): string[] {
  return [...tokenStems(token, lang).map((s) => `s:${lang}:${s}`), `w:${lang}:${token.word}`]
}

function compileWords(text: string, lang: Lang, exact: boolean): WordMatcher[] {
  return normalizeText(text).tokens.map((token) => {
    const stems = tokenStems(token, lang).filter((s) => s.length >= MIN_STEM_LENGTH)
    return {
      word: token.word,
      stems: exact || stems.length === 0 ? null : new Set(stems),
      fuzzy: !exact && token.word.length >= FUZZY_MIN_LENGTH,
    }
  })
}

const termOf = (entry: Weighted) => (typeof entry === 'string' ? entry : entry.term)
const weightOf = (entry: Weighted, fallback: number) =>
  typeof entry === 'string' ? fallback : entry.weight

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** Builds the lookup structures for every intent, signal and act of a rulebook. */
export function compileTerms(
  intents: Partial<Record<string, MatchTarget>>,
  signals: Partial<Record<string, MatchTarget>>,
  acts: Partial<Record<string, MatchTarget>> = {},
): TermIndex {
  forgetWordMemos()
  const index: TermIndex = {
    byKey: new Map(),
    fuzzy: new Map(),
    patterns: [],
    together: [],
    togetherWords: new Map(),
    targets: new Map(),
    later: { es: new Map(), en: new Map(), words: new Map(), fuzzy: new Map() },
  }
  const addLater = (words: readonly WordMatcher[], lang: Lang) => {
    for (const matcher of words) {
      if (matcher.stems) {
        for (const stem of matcher.stems) push(index.later[lang], stem, matcher)
      } else {
        push(index.later.words, matcher.word, matcher)
      }
      if (!matcher.fuzzy) continue
      for (const variant of new Set([matcher.word, ...deletions(matcher.word)]))
        push(index.later.fuzzy, variant, matcher)
    }
  }
  const addTerm = (term: CompiledTerm) => {
    const first = term.words[0]
    if (!first) return
    for (const key of matcherKeys(first, term.lang)) push(index.byKey, key, term)
    if (!first.fuzzy) return
    for (const variant of [first.word, ...deletions(first.word)]) {
      const key = `${term.lang}:${variant}`
      const list = index.fuzzy.get(key) ?? []
      if (!list.some((entry) => entry.word === first.word)) {
        list.push({ lang: term.lang, word: first.word, keys: matcherKeys(first, term.lang) })
      }
      index.fuzzy.set(key, list)
    }
  }
  const groups: [TargetGroup, Partial<Record<string, MatchTarget>>][] = [
    ['intent', intents],
    ['signal', signals],
    ['act', acts],
  ]
  for (const [group, targets] of groups) {
    for (const [target, spec] of Object.entries(targets)) {
      if (!spec) continue
      const exceptions: CompiledTarget['exceptions'] = []
      for (const lang of ['es', 'en'] as const) {
        const terms = spec[lang]
        const add = (entry: Weighted, exact: boolean) => {
          const term = termOf(entry)
          const words = compileWords(term, lang, exact)
          addLater(words.slice(1), lang)
          const kind = words.length > 1 ? 'phrase' : exact ? 'word' : 'keyword'
          addTerm({
            group,
            target,
            lang,
            kind,
            term,
            weight: weightOf(entry, kind === 'phrase' ? 2 : 1),
            words,
          })
        }
        for (const entry of [...terms.keywords, ...terms.phrases]) add(entry, false)
        for (const entry of terms.words) add(entry, true)
        for (const entry of terms.patterns) {
          index.patterns.push({
            group,
            target,
            lang,
            term: termOf(entry),
            weight: weightOf(entry, 2),
            regex: new RegExp(termOf(entry), 'g'),
          })
        }
        for (const entry of terms.together) {
          index.together.push({
            group,
            target,
            lang,
            term: entry.all.map((list) => list[0]).join(' + '),
            weight: entry.weight,
            lists: entry.all.map(
              (list) =>
                new Set(
                  list.flatMap((w) => (lang === 'es' ? genders(fold(w).trim()) : [fold(w).trim()])),
                ),
            ),
          })
        }
        // Exceptions match without typo tolerance: "stripped" must not cancel "tripped".
        for (const exception of terms.exceptions) {
          const words = compileWords(exception, lang, false).map((w) => ({ ...w, fuzzy: false }))
          addLater(words, lang)
          exceptions.push({ lang, words })
        }
      }
      index.targets.set(`${group}:${target}`, { negation: spec.negation, exceptions })
    }
  }
  index.together.forEach((rule, r) => {
    rule.lists.forEach((words, l) => {
      for (const word of words) {
        const entries = index.togetherWords.get(word) ?? []
        entries.push({ rule: r, list: l })
        index.togetherWords.set(word, entries)
      }
    })
  })
  return index
}

/**
 * The later words (`LaterWords`) a token matches, exactly or with one typo; null for none, as
 * for most words. Kept with the word.
 */
const laterMatches = wordMemo((token: Token, index: TermIndex) => {
  const { later } = index
  // Typed by assertion: TypeScript does not see the closure below assign it.
  let found = null as Map<WordMatcher, 'exact' | 'fuzzy'> | null
  const add = (matchers: readonly WordMatcher[] | undefined, kind: 'exact' | 'fuzzy') => {
    for (const matcher of matchers ?? []) {
      if (found?.has(matcher)) continue
      if (kind === 'fuzzy' && !withinOneEdit(token.word, matcher.word)) continue
      found ??= new Map()
      found.set(matcher, kind)
    }
  }
  for (const stem of token.es) add(later.es.get(stem), 'exact')
  add(later.en.get(token.en), 'exact')
  add(later.words.get(token.word), 'exact')
  if (token.word.length >= FUZZY_MIN_LENGTH) {
    add(later.fuzzy.get(token.word), 'fuzzy')
    for (const variant of deletions(token.word)) add(later.fuzzy.get(variant), 'fuzzy')
  }
  return found
})

/**
 * Whether a token is a later word of a phrase or an exception: by its stems (in the word's
 * language) or, for words without telling stems, its exact form; else, for a typo-tolerant
 * word, with one typo.
 */
function wordMatches(
  token: Token,
  matcher: WordMatcher,
  index: TermIndex,
): 'exact' | 'fuzzy' | null {
  return laterMatches(token, index)?.get(matcher) ?? null
}

/** Matches the rest of a phrase after its first word; null when it does not follow. */
function matchRest(
  tokens: readonly Token[],
  start: number,
  words: readonly WordMatcher[],
  index: TermIndex,
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
      const kind = wordMatches(tokens[next]!, words[w]!, index)
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

const NO_CANDIDATES: Candidate[] = []

/**
 * Which languages a message's terms are tried in, as a slot of `candidatesOf`: es, en, es+en
 * or en+es (candidates come in the order of the languages), or -1 for any other list.
 */
function languageChoice(languages: readonly Lang[]): number {
  if (languages.length === 1) return languages[0] === 'es' ? 0 : 1
  if (languages.length === 2 && languages[0] !== languages[1]) return languages[0] === 'es' ? 2 : 3
  return -1
}

/**
 * Terms whose first word is this token, per choice of languages (`languageChoice`). They
 * depend on the word and the languages tried alone, so they are found once and kept with the
 * word.
 */
const candidatesOf = wordMemo((_token: Token, _index: TermIndex) =>
  new Array<Candidate[] | undefined>(4).fill(undefined),
)

/** Terms whose first word is this token: by stem or exact form, else by a one-typo match. */
function candidatesFor(
  index: TermIndex,
  token: Token,
  languages: readonly Lang[],
  choice: number,
): Candidate[] {
  if (choice < 0) return findCandidates(index, token, languages)
  const byChoice = candidatesOf(token, index)
  let found = byChoice[choice]
  if (!found) {
    found = findCandidates(index, token, languages)
    // Most words start no term: they share one empty list.
    byChoice[choice] = found.length > 0 ? found : NO_CANDIDATES
  }
  return found
}

/** A word of a `together` list → which rules and lists it belongs to, kept with the word. */
const togetherOf = wordMemo((token: Token, index: TermIndex) => index.togetherWords.get(token.word))

function findCandidates(index: TermIndex, token: Token, languages: readonly Lang[]): Candidate[] {
  const out: Candidate[] = []
  for (const lang of languages) {
    if (!speaks(token, lang)) continue
    for (const key of tokenKeys(token, lang)) {
      for (const term of index.byKey.get(key) ?? []) out.push({ term, fuzzy: false })
    }
  }
  if (out.length > 0 || token.word.length < FUZZY_MIN_LENGTH || HAS_DIGIT.test(token.word))
    return out
  const seen = new Set<string>()
  for (const lang of languages) {
    for (const variant of [token.word, ...deletions(token.word)]) {
      for (const entry of index.fuzzy.get(`${lang}:${variant}`) ?? []) {
        const id = `${lang}:${entry.word}`
        if (seen.has(id) || !withinOneEdit(token.word, entry.word)) continue
        seen.add(id)
        for (const key of entry.keys) {
          for (const term of index.byKey.get(key) ?? []) {
            if (term.words[0]?.word === entry.word) out.push({ term, fuzzy: true })
          }
        }
      }
    }
  }
  return out
}

// "si no responden, tomaré medidas" / "if not": a condition, not a negation of what follows.
const CONDITIONALS = new Set(['si', 'if', 'unless'])
// Verbs that deny a denial: "no descarto acciones legales", "no dudaré en demandar", "I won't
// hesitate to sue", "not ruling out legal action" say the opposite of a plain "no".
const DOUBLE_NEGATIVES = /^(descart|dud|vacil|exclu|titube|hesitat|rul(e|es|ed|ing)$)/

// Spanish puts object pronouns between "no" and its verb ("no los voy a demandar"): for a
// signal, a threat's verb, they do not count towards the negation's reach. An intent's term is
// a topic, not a verb: "no me reconoce el pago" is still about a payment.
const CLITICS = new Set(['me', 'te', 'se', 'lo', 'la', 'los', 'las', 'le', 'les', 'nos', 'os'])

/** How many object pronouns follow the negator at `i`, before the hit at `at`. */
function cliticsAfter(tokens: readonly Token[], i: number, at: number): number {
  let n = 0
  while (i + 1 + n < at && CLITICS.has(tokens[i + 1 + n]!.word)) n++
  return n
}

function negatorBefore(tokens: readonly Token[], at: number, group: TargetGroup): string | null {
  const clause = tokens[at]!.clause
  const skipped = group === 'signal' ? MAX_CLITICS : 0
  for (let i = at - 1; i >= 0 && i >= at - NEGATION_WINDOW - skipped; i--) {
    const token = tokens[i]!
    if (token.clause !== clause) break
    if (NEGATORS.has(token.word)) {
      const reach = at - i - (skipped > 0 ? cliticsAfter(tokens, i, at) : 0)
      if (reach > NEGATION_WINDOW) return null
      // "si no", "if you don't", "unless they": the negation belongs to a condition.
      for (let j = i - 1; j >= 0 && j >= i - 3 && tokens[j]!.clause === clause; j--) {
        if (CONDITIONALS.has(tokens[j]!.word)) return null
      }
      for (let j = i + 1; j < at; j++) {
        if (DOUBLE_NEGATIVES.test(tokens[j]!.word)) return null
      }
      return token.word
    }
  }
  return null
}

function exceptionIn(
  tokens: readonly Token[],
  clause: number,
  target: CompiledTarget,
  index: TermIndex,
): string | null {
  for (const { words } of target.exceptions) {
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i]!.clause !== clause || !wordMatches(tokens[i]!, words[0]!, index)) continue
      if (words.length === 1 || matchRest(tokens, i, words, index))
        return words.map((w) => w.word).join(' ')
    }
  }
  return null
}

/**
 * For each `together` rule, the first clause holding a word of every one of its lists. One
 * pass over the tokens, looking each word up once, whatever the number of rules: tokens come
 * clause by clause, so only the current clause's findings are kept.
 */
function matchTogether(
  tokens: readonly Token[],
  index: TermIndex,
  languages: readonly Lang[],
  hits: Hit[],
): void {
  const rules = index.together
  if (rules.length === 0) return
  const found: (Hit | undefined)[] = new Array(rules.length)
  // Per rule, this clause's word for each list; allocated only for rules a word touches.
  let clauseWords = new Map<number, (string | undefined)[]>()
  const firsts = new Map<number, number>()
  const close = (clause: number) => {
    for (const [r, words] of clauseWords) {
      if (found[r] || words.includes(undefined)) continue
      const rule = rules[r]!
      found[r] = {
        group: rule.group,
        target: rule.target,
        lang: rule.lang,
        kind: 'together',
        term: rule.term,
        matched: words.join(' … '),
        clause,
        position: firsts.get(r)!,
        weight: rule.weight,
        fuzzy: false,
      }
    }
  }
  let clause = -1
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.clause !== clause) {
      if (clauseWords.size > 0) {
        close(clause)
        clauseWords = new Map()
        firsts.clear()
      }
      clause = token.clause
    }
    const entries = togetherOf(token, index)
    if (!entries) continue
    for (const { rule: r, list } of entries) {
      const rule = rules[r]!
      if (found[r] || !languages.includes(rule.lang)) continue
      let words = clauseWords.get(r)
      if (!words) {
        words = new Array<string | undefined>(rule.lists.length).fill(undefined)
        clauseWords.set(r, words)
        firsts.set(r, i)
      }
      words[list] ??= token.word
    }
  }
  if (clauseWords.size > 0) close(clause)
  for (const hit of found) if (hit) hits.push(hit)
}

/** A Spanish participle or adjective in -ado/-ido, any gender and number: "hundid" + "o". */
const PARTICIPLE = /^(.{2,}[ai]d)(?:o|a|os|as)$/

/**
 * The forms a `together` word stands for in Spanish: itself, and for a participle (-ado, -ido)
 * its other gender and number, so "hundido" also finds "la puerta hundida" and "rayado" finds
 * "espejos rayados". Only participles: "rompió" and "rompía" are different words.
 */
function genders(word: string): string[] {
  const stem = PARTICIPLE.exec(word)?.[1]
  return stem ? [`${stem}o`, `${stem}a`, `${stem}os`, `${stem}as`] : [word]
}

/** Regular expressions run on at most this much folded text, so no pattern runs unbounded. */
export const PATTERN_INPUT_LIMIT = 4000

const BOTH: readonly Lang[] = ['es', 'en']

/**
 * Every rule term found in the text. Pure; hits that a negation or exception cancels are
 * marked. `languages` limits which languages' terms are tried: a message that is plainly
 * English is not matched against Spanish stems ("period" is not "periodista").
 */
export function matchTerms(
  index: TermIndex,
  text: NormalizedText,
  languages: readonly Lang[] = BOTH,
): Hit[] {
  const { tokens } = text
  const hits: Hit[] = []
  const choice = languageChoice(languages)
  for (let i = 0; i < tokens.length; i++) {
    for (const { term, fuzzy } of candidatesFor(index, tokens[i]!, languages, choice)) {
      const rest =
        term.words.length > 1 ? matchRest(tokens, i, term.words, index) : { end: i, fuzzy: false }
      if (!rest) continue
      hits.push({
        group: term.group,
        target: term.target,
        lang: term.lang,
        kind: term.kind,
        term: term.term,
        matched:
          rest.end === i
            ? tokens[i]!.word
            : tokens
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
  matchTogether(tokens, index, languages, hits)
  const folded = text.folded.slice(0, PATTERN_INPUT_LIMIT)
  for (const pattern of index.patterns) {
    if (!languages.includes(pattern.lang)) continue
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
    if (
      target.negation &&
      (hit.kind === 'keyword' || hit.kind === 'word' || hit.kind === 'phrase')
    ) {
      const negator = negatorBefore(tokens, hit.position, hit.group)
      if (negator) {
        hit.vetoed = `negated by "${negator}"`
        continue
      }
    }
    const exception = exceptionIn(tokens, hit.clause, target, index)
    if (exception) hit.vetoed = `exception "${exception}"`
  }
  return hits
}

/**
 * Rule score per target: the sum over non-vetoed hits, where each term counts once and each
 * word of the message counts once per target (three keywords sharing a stem, like "cobro",
 * "cobraron" and "cobrado", are one piece of evidence, not three; nor is a word said twice).
 */
export function scoreHits(hits: readonly Hit[], group: TargetGroup): Map<string, number> {
  const counted = new Set<string>()
  const scores = new Map<string, number>()
  const sorted = hits
    .filter((h) => h.group === group && !h.vetoed)
    .sort((a, b) => b.weight - a.weight)
  for (const hit of sorted) {
    const term = `${hit.target}\u0000${hit.term}`
    const position = `${hit.target}\u0000@${hit.position}`
    const word = `${hit.target}\u0000=${hit.matched}`
    const single = hit.kind === 'keyword' || hit.kind === 'word'
    if (counted.has(term) || (single && (counted.has(position) || counted.has(word)))) continue
    counted.add(term)
    if (single) {
      counted.add(position)
      counted.add(word)
    }
    scores.set(hit.target, (scores.get(hit.target) ?? 0) + hit.weight)
  }
  return scores
}
