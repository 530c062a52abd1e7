import { deletions, withinOneEdit } from './edit-distance.js'
import { negatorBefore } from './negation.js'
import { type NormalizedText, type Token, wordMemo } from './normalize-text.js'
import {
  type Candidate,
  type CompiledTarget,
  FUZZY_MIN_LENGTH,
  HAS_DIGIT,
  type Hit,
  type Lang,
  PHRASE_GAP,
  speaks,
  type TargetGroup,
  type TermIndex,
  tokenKeys,
  type WordMatcher,
} from './term-index.js'

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

export { compileTerms } from './compile-terms.js'
export type { Hit, HitKind, Lang, TargetGroup, TermIndex } from './term-index.js'
