import type { FaqVocabulary } from './faq-answerer.js'
import type { Hit } from './match-terms.js'
import { normalizeText } from './normalize-text.js'
import type { IntentId } from './rulebook/schema.js'
import { STOPWORDS } from './stopwords.js'
import type { DecisionSignal } from './types.js'

/** Combined probability of complaint + legal + payment from which no automatic reply is sent. */
const SENSITIVE_CHANCE = 0.1

// Intents that are never answered automatically, whatever a rule says.
export const NO_AUTO_REPLY: ReadonlySet<IntentId> = new Set(['complaint', 'legal', 'payment'])

/**
 * Why a message must not get any automatic reply, or null. Complaints, legal threats and
 * payment problems are answered by people: not only when that is the decided intent, but
 * whenever a rule found signs of one or the combined scores give them a real chance.
 */
export function sensitivity(
  intent: IntentId,
  signals: ReadonlySet<DecisionSignal>,
  ruleScores: ReadonlyMap<string, number>,
  combined: readonly { intent: IntentId; score: number }[],
  hits: readonly Hit[],
  faqTopic: FaqVocabulary | undefined,
  /** Whether the classifier's mere chance of one counts (not for handing over to a person). */
  byChance: boolean,
): string | null {
  if (NO_AUTO_REPLY.has(intent)) return `the message is ${intent}`
  if (signals.size > 0) return `signals ${[...signals].join(', ')}`
  for (const candidate of NO_AUTO_REPLY) {
    if (!((ruleScores.get(candidate) ?? 0) > 0)) continue
    if (!faqTopic) return `rules found signs of ${candidate}`
    const sign = (h: Hit) => h.group === 'intent' && h.target === candidate && !h.vetoed
    if (hits.some((h) => sign(h) && !withinTopic(h, faqTopic)))
      return `rules found signs of ${candidate}`
  }
  const chance = combined
    .filter((c) => NO_AUTO_REPLY.has(c.intent))
    .reduce((sum, c) => sum + c.score, 0)
  if (byChance && chance >= SENSITIVE_CHANCE)
    return `${(chance * 100).toFixed(0)}% chance of a complaint, legal or payment matter`
  return null
}

/** Whether every word a rule matched is a word of the knowledge-base entry (by its stem). */
export function withinTopic(hit: Hit, topic: FaqVocabulary): boolean {
  if (hit.position < 0) return false
  return normalizeText(hit.matched).tokens.every(
    (t) => STOPWORDS.has(t.word) || topic.es.has(t.es[0]!) || topic.en.has(t.en),
  )
}
