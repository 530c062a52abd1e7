import type { Lang } from './match-terms.js'
import { forgetWordMemos, normalizeText, type Token, wordMemo } from './normalize-text.js'
import type { RulebookSource } from './rulebook/schema.js'
import { STOPWORDS } from './stopwords.js'

type Question = {
  entryId: string
  lang: Lang
  text: string
  weights: Map<string, number>
  norm: number
}

export type FaqIndex = {
  questions: Question[]
  idf: { es: Map<string, number>; en: Map<string, number> }
  /** stem → the questions (by position) that contain it, per language. */
  postings: { es: Map<string, number[]>; en: Map<string, number[]> }
  answers: Map<string, { es: string; en: string }>
  /** Each entry's content stems, over all its questions, per language. */
  vocabulary: Map<string, FaqVocabulary>
}

export type FaqVocabulary = { es: ReadonlySet<string>; en: ReadonlySet<string> }

export type FaqMatch = { id: string; similarity: number; question: string; lang: Lang }

/** Whether a word carries content for matching (not a stopword, not a single letter). */
const isContent = (token: Token) => !STOPWORDS.has(token.word) && token.word.length >= 2
const stemIn = (token: Token, lang: Lang) => (lang === 'es' ? token.es[0]! : token.en)

function contentStems(tokens: readonly Token[], lang: Lang): Set<string> {
  const out = new Set<string>()
  for (const token of tokens) if (isContent(token)) out.add(stemIn(token, lang))
  return out
}

export function compileFaq(faq: RulebookSource['faq']): FaqIndex {
  forgetWordMemos()
  const raw: { entryId: string; lang: Lang; text: string; stems: Set<string> }[] = []
  for (const entry of faq.faq) {
    for (const lang of ['es', 'en'] as const) {
      for (const text of entry.questions[lang]) {
        raw.push({
          entryId: entry.id,
          lang,
          text,
          stems: contentStems(normalizeText(text).tokens, lang),
        })
      }
    }
  }
  const idf = { es: new Map<string, number>(), en: new Map<string, number>() }
  for (const lang of ['es', 'en'] as const) {
    const docs = raw.filter((q) => q.lang === lang)
    const df = new Map<string, number>()
    for (const q of docs) for (const stem of q.stems) df.set(stem, (df.get(stem) ?? 0) + 1)
    for (const [stem, n] of df) idf[lang].set(stem, Math.log(1 + docs.length / n))
  }
  const questions = raw.map((q) => {
    const weights = new Map<string, number>()
    let norm = 0
    for (const stem of q.stems) {
      const w = idf[q.lang].get(stem) ?? 1
      weights.set(stem, w)
      norm += w * w
    }
    return { entryId: q.entryId, lang: q.lang, text: q.text, weights, norm: Math.sqrt(norm) }
  })
  const answers = new Map(faq.faq.map((entry) => [entry.id, entry.answer]))
  const vocabulary = new Map<string, { es: Set<string>; en: Set<string> }>()
  for (const q of raw) {
    const entry = vocabulary.get(q.entryId) ?? { es: new Set<string>(), en: new Set<string>() }
    for (const stem of q.stems) entry[q.lang].add(stem)
    vocabulary.set(q.entryId, entry)
  }
  const postings = { es: new Map<string, number[]>(), en: new Map<string, number[]>() }
  questions.forEach((question, q) => {
    for (const stem of question.weights.keys()) {
      const list = postings[question.lang].get(stem) ?? []
      list.push(q)
      postings[question.lang].set(stem, list)
    }
  })
  return { questions, idf, postings, answers, vocabulary }
}

/** What a word brings to a match, per language: its stem, the stem's IDF and its questions. */
const faqFacts = wordMemo((token: Token, index: FaqIndex) => {
  if (!isContent(token)) return null
  const facts = (lang: Lang) => {
    const stem = stemIn(token, lang)
    return { stem, weight: index.idf[lang].get(stem), postings: index.postings[lang].get(stem) }
  }
  return { es: facts('es'), en: facts('en') }
})

/**
 * The knowledge-base entry closest to the message. Similarity blends how much of the question
 * the message covers (a long, chatty message still matches a short question) with cosine
 * similarity over IDF-weighted stems.
 */
export function bestFaq(index: FaqIndex, tokens: readonly Token[]): FaqMatch | null {
  const messageNorm = { es: 0, en: 0 }
  // Only questions sharing a stem with the message can score: find them through the postings.
  const dots = new Map<number, number>()
  for (const lang of ['es', 'en'] as const) {
    let squares = 0
    // The message's content stems, each once (as `contentStems` gives them).
    const seen = new Set<string>()
    for (const token of tokens) {
      const facts = faqFacts(token, index)?.[lang]
      if (!facts || seen.has(facts.stem)) continue
      seen.add(facts.stem)
      const { weight, postings } = facts
      squares += (weight ?? 1) ** 2
      if (weight === undefined || !postings) continue
      for (const q of postings) dots.set(q, (dots.get(q) ?? 0) + weight * weight)
    }
    messageNorm[lang] = Math.sqrt(squares)
  }
  let best: FaqMatch | null = null
  for (const [q, dot] of dots) {
    const question = index.questions[q]!
    if (question.norm === 0 || messageNorm[question.lang] === 0) continue
    const coverage = dot / (question.norm * question.norm)
    const cosine = dot / (question.norm * messageNorm[question.lang])
    const similarity = 0.6 * coverage + 0.4 * cosine
    if (!best || similarity > best.similarity) {
      best = { id: question.entryId, similarity, question: question.text, lang: question.lang }
    }
  }
  return best
}
