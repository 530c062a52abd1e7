import { detectLanguage } from './detect-language.js'
import { extractAmounts, largestAmount } from './entities.js'
import { round } from './explain.js'
import { bestFaq } from './faq-answerer.js'
import { matchTerms, scoreHits } from './match-terms.js'
import { negativeWords, positiveWords } from './negativity.js'
import { normalizeText } from './normalize-text.js'
import { INTENTS, SIGNALS } from './rulebook/ids.js'
import type { IntentId } from './rulebook/schema.js'
import { readSocialText } from './social-text.js'
import { angry, isQuestion, personal, smallTalk, termLanguages } from './text-cues.js'
import type { Explanation, IntentClassifier, TextAnalysis, TextInput, TextRules } from './types.js'

/** Characters of a message that triage reads. */
export const TRIAGE_TEXT_LIMIT = 8000

/** How much one point of rule weight multiplies an intent's odds (log-linear combination). */
const RULE_GAIN = 1.6
/** Messages of at most this many words are held to a higher bar before they get an intent. */
export const SHORT = 6
/** Rule weight of a perfect match with a knowledge-base question. */
const FAQ_EVIDENCE = 2
/** Rule weight of each strongly negative word (at most two) as evidence of a complaint. */
const NEGATIVE_EVIDENCE = 0.5
/** Rule weight of each strongly positive word (at most two) as evidence of chatter ("other"). */
const POSITIVE_EVIDENCE = 0.5
/**
 * Similarity from which a knowledge-base match counts as evidence of an FAQ. It is weak
 * evidence (a complaint about the opening hours resembles the question about them), which
 * is why it weighs at most two rule points and the sensitivity guard still applies.
 */
const FAQ_EVIDENCE_SIMILARITY = 0.5
/** Rule score at which a signal stands on its own (weaker terms need a grievance around them). */
const SIGNAL_BAR = 1

export function combine(
  ruleScores: Map<string, number>,
  classifier: Map<IntentId, number> | null,
): { intent: IntentId; score: number }[] {
  const raw = INTENTS.map((intent) => {
    const prior = classifier ? (classifier.get(intent) ?? 0) + 1e-6 : 1
    return { intent, score: prior * Math.exp(RULE_GAIN * (ruleScores.get(intent) ?? 0)) }
  })
  const total = raw.reduce((sum, r) => sum + r.score, 0)
  return raw
    .map((r) => ({ intent: r.intent, score: r.score / total }))
    .sort((a, b) => b.score - a.score)
}

export function analyzeText(
  input: TextInput,
  rulebook: TextRules,
  classifier: IntentClassifier | null,
): TextAnalysis {
  const settings = rulebook.settings
  // What decides a message is in its first lines; a pasted log or a huge body must not make
  // triage slow (every matcher here is linear, but linear in a megabyte is still a megabyte).
  const raw = (input.subject ? `${input.subject}\n${input.text}` : input.text).slice(
    0,
    TRIAGE_TEXT_LIMIT,
  )
  // Tweets and posts: links out, handles and hashtags spelled out, addressees on a line of
  // their own (clause 0), news outlets noted.
  const social = readSocialText(raw, settings.news_outlets)
  const fullText = social.addressees ? `${social.addressees}\n${social.text}` : social.text
  const normalized = normalizeText(fullText)
  /** Index of the first token the author wrote (after the addressees' clause). */
  const firstOwn = social.addressees ? normalized.tokens.findIndex((t) => t.clause > 0) : 0
  const guess = detectLanguage(normalized.tokens, fullText, settings.default_language)
  const language = input.language ?? guess.language
  const hits = matchTerms(rulebook.terms, normalized, termLanguages(guess))
  const ruleScores = scoreHits(hits, 'intent')
  // Strongly negative words are evidence of a complaint, like a rule hit — when the message
  // is about the writer or the business (a first or second person in it): "what was the
  // worst earthquake ever?" is a question, not a grievance.
  const negative = negativeWords(normalized.tokens)
  if (negative.length > 0 && personal(normalized.tokens)) {
    ruleScores.set(
      'complaint',
      (ruleScores.get('complaint') ?? 0) + NEGATIVE_EVIDENCE * Math.min(2, negative.length),
    )
  }
  // Praise with no grievance in it (no strongly negative word, no complaint term) is evidence
  // the message is not one: a thank-you to the crew, "qué bonito video".
  const positive = negative.length === 0 ? positiveWords(normalized.tokens) : []
  if (positive.length > 0 && !((ruleScores.get('complaint') ?? 0) > 0)) {
    ruleScores.set(
      'other',
      (ruleScores.get('other') ?? 0) + POSITIVE_EVIDENCE * Math.min(2, positive.length),
    )
  }
  // A message close to a knowledge-base question is evidence for an FAQ, like a rule hit.
  const faqMatch = bestFaq(rulebook.faq, normalized.tokens)
  if (faqMatch && faqMatch.similarity >= FAQ_EVIDENCE_SIMILARITY) {
    ruleScores.set('faq', (ruleScores.get('faq') ?? 0) + FAQ_EVIDENCE * faqMatch.similarity)
  }
  const classifierScores = classifier ? classifier.scores(normalized.tokens, language) : null
  const combined = combine(ruleScores, classifierScores)
  // A grievance that tags a newspaper or a TV channel is going public, whatever its words.
  const aggrieved = ['complaint', 'legal', 'payment'].includes(combined[0]!.intent)
  if (social.newsOutlets.length > 0 && (aggrieved || negative.length > 0)) {
    hits.push({
      group: 'signal',
      target: 'media_threat',
      lang: language,
      kind: 'mention',
      term: 'a news outlet tagged',
      matched: social.newsOutlets.map((h) => `@${h}`).join(' '),
      clause: 0,
      position: -1,
      weight: 1,
      fuzzy: false,
    })
  }
  const signalScores = scoreHits(hits, 'signal')
  // A signal stands on a full term, or on weaker ones in a message that is a grievance.
  const grievanceWords =
    negative.length > 0 ||
    (ruleScores.get('complaint') ?? 0) > 0 ||
    (ruleScores.get('legal') ?? 0) > 0
  const signals = SIGNALS.filter((s) => {
    const score = signalScores.get(s) ?? 0
    // Going public is a threat only from someone aggrieved ("los sigo en Instagram" is not).
    if (s === 'media_threat') return score > 0 && (grievanceWords || aggrieved)
    return score >= SIGNAL_BAR || (score > 0 && (grievanceWords || aggrieved))
  })
  // Second tier for L3: on a message that reads as a complaint, the classifier's signal models
  // may add a signal the rules missed. High bar: an L3 escalation calls people.
  const classifierSignals: Explanation['classifierSignals'] = []
  const l3Bar = settings.l3_classifier?.min_probability
  const grievance =
    ['complaint', 'legal'].includes(combined[0]!.intent) || (ruleScores.get('complaint') ?? 0) > 0
  // A few words ("espero su respuesta") are too little for the classifier to tell a threat by.
  if (
    l3Bar !== undefined &&
    grievance &&
    classifier?.signalScores &&
    normalized.tokens.length > SHORT
  ) {
    // A signal the rules cancelled (a negation, an exception) stays cancelled.
    const cancelled = new Set(
      hits.filter((h) => h.group === 'signal' && h.vetoed).map((h) => h.target),
    )
    for (const [signal, probability] of classifier.signalScores(normalized.tokens, language)) {
      if (probability >= l3Bar && !signals.includes(signal) && !cancelled.has(signal)) {
        signals.push(signal)
        classifierSignals.push({ signal, probability: round(probability) })
      }
    }
  }
  return {
    rulebookVersion: rulebook.version,
    classifierName: classifier?.name ?? null,
    language,
    guess,
    hits,
    tokenCount: normalized.tokens.length,
    known: classifier?.knownShare?.(normalized.tokens, language) ?? 1,
    ruleScores,
    signals,
    classifierSignals,
    classifierScores,
    combined,
    question: isQuestion(social.text, normalized.tokens.slice(Math.max(0, firstOwn))),
    faqMatch,
    amount: largestAmount({ amounts: extractAmounts(fullText) }),
    angry: angry(negative),
    smallTalk: smallTalk(hits, normalized.tokens, social.text, Math.max(0, firstOwn)),
    personRequest: hits.some(
      (h) => h.group === 'act' && h.target === 'person_request' && !h.vetoed,
    ),
  }
}
