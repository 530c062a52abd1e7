import { fold } from '../kit/fold.js'
import { deletions } from './edit-distance.js'
import { forgetWordMemos } from './normalize-text.js'
import type { MatchTarget, Weighted } from './rulebook/schema.js'
import {
  type CompiledTarget,
  type CompiledTerm,
  compileWords,
  genders,
  type Lang,
  matcherKeys,
  push,
  type TargetGroup,
  type TermIndex,
  termOf,
  type WordMatcher,
  weightOf,
} from './term-index.js'

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
