import type { Token } from '../normalize-text.js'

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
