import type { Token } from './normalize-text.js'
import { MAX_CLITICS, NEGATION_WINDOW, NEGATORS, type TargetGroup } from './term-index.js'

// What sets a rule's finding aside: a negation before it, a condition, an exception.

// "si no responden, tomaré medidas" / "if not": a condition, not a negation of what follows.
export const CONDITIONALS = new Set(['si', 'if', 'unless'])
// Verbs that deny a denial: "no descarto acciones legales", "no dudaré en demandar", "I won't
// hesitate to sue", "not ruling out legal action" say the opposite of a plain "no".
export const DOUBLE_NEGATIVES = /^(descart|dud|vacil|exclu|titube|hesitat|rul(e|es|ed|ing)$)/

// Spanish puts object pronouns between "no" and its verb ("no los voy a demandar"): for a
// signal, a threat's verb, they do not count towards the negation's reach. An intent's term is
// a topic, not a verb: "no me reconoce el pago" is still about a payment.
export const CLITICS = new Set([
  'me',
  'te',
  'se',
  'lo',
  'la',
  'los',
  'las',
  'le',
  'les',
  'nos',
  'os',
])

/** How many object pronouns follow the negator at `i`, before the hit at `at`. */
export function cliticsAfter(tokens: readonly Token[], i: number, at: number): number {
  let n = 0
  while (i + 1 + n < at && CLITICS.has(tokens[i + 1 + n]!.word)) n++
  return n
}

export function negatorBefore(
  tokens: readonly Token[],
  at: number,
  group: TargetGroup,
): string | null {
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
