import type { AuthorRole } from '../contracts/message.js'
import { detectLanguage, type LanguageGuess } from './detect-language.js'
import { extractAmounts, largestAmount } from './entities.js'
import { bestFaq, type FaqMatch, type FaqVocabulary } from './faq-answerer.js'
import { type Hit, matchTerms, scoreHits } from './match-terms.js'
import { negativeWords, positiveWords } from './negativity.js'
import { normalizeText, type Token } from './normalize-text.js'
import type { Rulebook } from './rulebook/compile.js'
import { INTENTS, SIGNALS } from './rulebook/ids.js'
import type {
  ActId,
  Condition,
  IntentId,
  Level,
  Priority,
  ReplyKind,
  RulebookSource,
  SignalId,
  TicketType,
} from './rulebook/schema.js'
import { readSocialText } from './social-text.js'
import { STOPWORDS } from './stopwords.js'

/** What the triage knows about the message's situation (from the store and calendars). */
export type TriageContext = {
  /** Whether the channel's business hours are running now; null when unknown. */
  inHours: boolean | null
  /**
   * Complaints from the same contact within the rulebook's window, before this message: the
   * count, or how to count it (the worker's count is a query, needed only for a complaint).
   */
  recentComplaints: number | (() => number)
  /** The operator assigned to this customer (internal chat), if any. */
  assignedOperator: string | null
  /** Whether the operator involved is on the improvement-plan list. */
  operatorOnImprovementPlan: boolean
}

export type TriageInput = {
  text: string
  subject?: string | null
  channel?: string | null
  role?: AuthorRole
  /** Language the channel declared, if any. */
  language?: 'es' | 'en' | null
  context?: Partial<TriageContext>
}

/** Scores of a statistical classifier: probabilities per intent, summing to 1. */
export interface IntentClassifier {
  readonly name: string
  /** The cache file the model was read from or saved to, if any: another thread reads it. */
  readonly file?: string
  scores(tokens: readonly Token[], language: 'es' | 'en'): Map<IntentId, number>
  /** Probability of each L3 signal, for a message already taken to be a complaint. */
  signalScores?(tokens: readonly Token[], language: 'es' | 'en'): Map<SignalId, number>
  /** The share of the message's content words the model knows (see `knownShare`). */
  knownShare?(tokens: readonly Token[], language: 'es' | 'en'): number
}

export type DecisionSignal = SignalId | 'repeat_complainer'

export type Reply =
  | { kind: 'faq'; faqId: string; similarity: number }
  | { kind: 'ack' }
  | { kind: 'out_of_hours' }
  | { kind: 'welcome' }
  | { kind: 'handoff' }

export type Explanation = {
  /** One line a person reads first. */
  summary: string
  language: { detected: 'es' | 'en'; es: number; en: number; declared: 'es' | 'en' | null }
  /** Rule terms found, including the ones a negation or exception cancelled. */
  hits: Pick<Hit, 'group' | 'target' | 'kind' | 'term' | 'matched' | 'fuzzy' | 'vetoed'>[]
  /** L3 signals the rules missed and the classifier found, with its probability. */
  classifierSignals: { signal: SignalId; probability: number }[]
  ruleScores: Partial<Record<IntentId, number>>
  classifier: { name: string; top: { intent: IntentId; score: number }[] } | null
  /** Final intent probabilities after rules and classifier are combined (top three). */
  combined: { intent: IntentId; score: number }[]
  intentReason: string
  /** A greeting or closing alone, a request for a person (see `ACTS`). */
  acts: ActId[]
  /** Why an automatic answer a rule asked for was set aside (a person answers), or null. */
  replyVeto: string | null
  faq: FaqMatch | null
  amounts: number[]
  /** Routing rules that matched, in order, with what each decided. */
  routing: { rule: string; set: string[] }[]
  reasons: string[]
  /**
   * How the message ends: answered automatically, given to a person, or closing an exchange
   * already answered. Set when the message's handling is settled (`src/pipeline/settle.ts`);
   * the classifier alone (`centralita classify`) leaves it out.
   */
  outcome?: Outcome
}

/** The branch a triaged customer message ends in, and why (see `settle`). */
export type Outcome = { branch: 'answer' | 'person' | 'closed'; reason: string }

export type Decision = {
  intent: IntentId
  confidence: number
  priority: Priority
  level: Level | null
  signals: DecisionSignal[]
  amount: number | null
  language: 'es' | 'en'
  queue: string | null
  needsHuman: boolean
  ticket: TicketType | null
  reply: Reply | null
  /** The customer's assigned operator when routing sends the conversation to them. */
  assignedOperator: string | null
  /** What the message does besides its intent: a greeting or closing alone, asking for a person. */
  acts: ActId[]
  explanation: Explanation
}

/** Characters of a message that triage reads. */
export const TRIAGE_TEXT_LIMIT = 8000

/** How much one point of rule weight multiplies an intent's odds (log-linear combination). */
const RULE_GAIN = 1.6
/** Below this classifier probability, with no rule evidence, a message is "other". */
const OTHER_FLOOR = 0.5
/** Messages of at most this many words are held to a higher bar before they get an intent. */
const SHORT = 6
const SHORT_FLOOR = 0.7
/**
 * Share of a message's content words the classifier must know for its scores to decide an
 * intent without any rule's help.
 */
const KNOWN_FLOOR = 0.5
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
/** Combined probability of complaint + legal + payment from which no automatic reply is sent. */
const SENSITIVE_CHANCE = 0.1
// Intents that are never answered automatically, whatever a rule says.
const NO_AUTO_REPLY: ReadonlySet<IntentId> = new Set(['complaint', 'legal', 'payment'])
const L3_SIGNALS: ReadonlySet<SignalId> = new Set(SIGNALS)

const DEFAULT_CONTEXT: TriageContext = {
  inHours: null,
  recentComplaints: 0,
  assignedOperator: null,
  operatorOnImprovementPlan: false,
}

function combine(
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

const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value]

type RoutingFacts = {
  intent: IntentId
  signals: ReadonlySet<DecisionSignal>
  channel: string | null
  role: AuthorRole
  inHours: boolean | null
  language: 'es' | 'en'
  amount: number | null
  repeatComplainer: boolean
  improvementPlan: boolean
  needsHuman: boolean
  acts: ReadonlySet<ActId>
}

function conditionHolds(when: Condition, facts: RoutingFacts): boolean {
  const intents = asList(when.intent)
  if (intents && !intents.includes(facts.intent)) return false
  const signals = asList(when.signal)
  if (signals && !signals.some((s) => facts.signals.has(s))) return false
  const channels = asList(when.channel)
  if (channels && (facts.channel === null || !channels.includes(facts.channel))) return false
  const roles = asList(when.role)
  if (roles && !roles.includes(facts.role)) return false
  if (when.in_hours !== undefined && facts.inHours !== when.in_hours) return false
  if (when.language !== undefined && facts.language !== when.language) return false
  if (
    when.amount_over !== undefined &&
    !(facts.amount !== null && facts.amount > when.amount_over)
  ) {
    return false
  }
  if (when.repeat_complainer !== undefined && facts.repeatComplainer !== when.repeat_complainer) {
    return false
  }
  if (when.improvement_plan !== undefined && facts.improvementPlan !== when.improvement_plan) {
    return false
  }
  if (when.needs_human !== undefined && facts.needsHuman !== when.needs_human) return false
  const acts = asList(when.act)
  if (acts && !acts.some((a) => facts.acts.has(a))) return false
  return true
}

/**
 * What a message's text says, before anything about its situation is known: the rules' terms,
 * the knowledge base, the classifier. Pure and plain data, so it can be worked out ahead of
 * the triage, on another thread (`src/worker/text-analysis.ts`), and handed over.
 */
export type TextAnalysis = {
  /** The rulebook and classifier it was worked out with; any other gets a new analysis. */
  rulebookVersion: string
  classifierName: string | null
  language: 'es' | 'en'
  guess: LanguageGuess
  hits: Hit[]
  tokenCount: number
  /** The share of the message's content words the classifier knows (1 without one). */
  known: number
  ruleScores: Map<string, number>
  /** Signals the rules (and, past its bar, the classifier) found. */
  signals: SignalId[]
  classifierSignals: Explanation['classifierSignals']
  classifierScores: Map<IntentId, number> | null
  combined: { intent: IntentId; score: number }[]
  question: boolean
  faqMatch: FaqMatch | null
  amount: number | null
  /** Why the words alone rule out an automatic reply (strongly negative ones), or null. */
  angry: string | null
  /** A greeting or a closing with nothing else said; whether the message asks for a person. */
  smallTalk: 'greeting' | 'closing' | null
  personRequest: boolean
}

/** The part of a triage input that its text analysis reads. */
export type TextInput = Pick<TriageInput, 'text' | 'subject' | 'language'>

/** The part of a rulebook that the text analysis reads. */
export type TextRules = Pick<Rulebook, 'version' | 'terms' | 'faq'> & {
  settings: Pick<RulebookSource['settings'], 'default_language' | 'l3_classifier' | 'news_outlets'>
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

/**
 * Decides what a message is and what should happen to it. Pure: the same input, rulebook and
 * classifier always give the same decision, with every reason written down. `analysis` is the
 * message's text analysis when it was worked out ahead (for this rulebook and classifier).
 */
export function triage(
  input: TriageInput,
  rulebook: Rulebook,
  classifier: IntentClassifier | null,
  analysis?: TextAnalysis,
): Decision {
  const context = { ...DEFAULT_CONTEXT, ...input.context }
  const settings = rulebook.settings
  const text =
    analysis &&
    analysis.rulebookVersion === rulebook.version &&
    analysis.classifierName === (classifier?.name ?? null)
      ? analysis
      : analyzeText(input, rulebook, classifier)
  const { language, guess, hits, ruleScores, classifierScores, combined, classifierSignals } = text
  const faqMatch = text.faqMatch
  const amount = text.amount
  const question = text.question
  const role = input.role ?? 'customer'
  const reasons: string[] = []
  const signals = new Set<DecisionSignal>(text.signals)
  const repeatComplainer = (candidate: IntentId) => {
    if (candidate !== 'complaint') return false
    const { recentComplaints } = context
    const before = typeof recentComplaints === 'number' ? recentComplaints : recentComplaints()
    return before + 1 >= settings.repeat_complaints.count
  }

  let intent = combined[0]!.intent
  let confidence = combined[0]!.score
  const margin = confidence - (combined[1]?.score ?? 0)
  let intentReason: string
  if (signals.has('legal_threat')) {
    intent = 'legal'
    confidence = 1
    intentReason = 'legal threat found by the rules'
  } else if ([...signals].some((s) => L3_SIGNALS.has(s as SignalId))) {
    intent = 'complaint'
    confidence = 1
    intentReason = `${[...signals].join(', ')} found by the ${classifierSignals.length === signals.size ? 'classifier' : 'rules'}`
  } else if (text.smallTalk) {
    // Every word is a greeting, a thank-you or a filler: there is nothing else to classify.
    intent = 'other'
    confidence = 1
    intentReason =
      text.smallTalk === 'greeting'
        ? 'a greeting and nothing else'
        : 'thanks or an acknowledgement and nothing else'
  } else if (
    ![...ruleScores.keys()].some((i) => i !== 'other') &&
    (!classifierScores ||
      text.known < KNOWN_FLOOR ||
      Math.max(...classifierScores.values()) <
        (text.tokenCount <= SHORT || NO_AUTO_REPLY.has(combined[0]!.intent)
          ? SHORT_FLOOR
          : OTHER_FLOOR))
  ) {
    // Nothing specific points anywhere: small talk or something new, never a guessed intent.
    // Nor does a message of words the classifier mostly never saw: its scores say little.
    intent = 'other'
    confidence = combined.find((c) => c.intent === 'other')?.score ?? 0
    intentReason = !classifierScores
      ? 'no rule matched and no classifier is loaded'
      : text.known < KNOWN_FLOOR
        ? `no rule matched and the classifier knows ${Math.round(text.known * 100)}% of its words: out of scope`
        : `no rule matched and the classifier is unsure (best ${Math.max(...classifierScores.values()).toFixed(2)})`
  } else {
    intentReason = `highest combined score (rules ${round(ruleScores.get(intent) ?? 0)}${
      classifierScores ? `, classifier ${(classifierScores.get(intent) ?? 0).toFixed(2)}` : ''
    })`
  }
  if (repeatComplainer(intent)) signals.add('repeat_complainer')
  const acts: ActId[] = []
  if (text.smallTalk) acts.push(text.smallTalk)
  if (text.personRequest) {
    acts.push('person_request')
    reasons.push('the customer asks to talk to a person')
  }

  let needsHuman = false
  if (confidence < 1) {
    if (confidence < settings.classifier.min_confidence) {
      needsHuman = true
      reasons.push(
        `confidence ${confidence.toFixed(2)} below ${settings.classifier.min_confidence}: a person decides`,
      )
    } else if (margin < settings.classifier.min_margin) {
      needsHuman = true
      reasons.push(
        `${combined[0]!.intent} and ${combined[1]!.intent} too close (margin ${margin.toFixed(2)}): a person decides`,
      )
    }
  }

  let faq: FaqMatch | null = null
  if (intent === 'faq') {
    faq = faqMatch
    if (!faq || faq.similarity < settings.faq.min_similarity) {
      needsHuman = true
      reasons.push(
        faq
          ? `closest FAQ "${faq.id}" only ${faq.similarity.toFixed(2)} similar (needs ${settings.faq.min_similarity}): a person answers`
          : 'no FAQ entry resembles the message: a person answers',
      )
    }
  }

  const facts: RoutingFacts = {
    intent,
    signals,
    channel: input.channel ?? null,
    role,
    inHours: context.inHours,
    language,
    amount,
    repeatComplainer: signals.has('repeat_complainer'),
    improvementPlan: context.operatorOnImprovementPlan,
    needsHuman,
    acts: new Set(acts),
  }
  const outcome: {
    queue?: string
    priority?: Priority
    level?: Level
    ticket?: TicketType
    reply?: ReplyKind
    assigned_operator?: boolean
  } = {}
  const routing: Explanation['routing'] = []
  for (const rule of rulebook.routing) {
    if (!conditionHolds(rule.when, facts)) continue
    const set: string[] = []
    for (const [field, value] of Object.entries(rule.then) as [keyof typeof outcome, never][]) {
      if (outcome[field] === undefined) {
        outcome[field] = value
        set.push(`${field}=${value}`)
      }
    }
    routing.push({ rule: rule.id, set })
    if (rule.stop) break
  }

  const priority = outcome.priority ?? 'media'
  const level = outcome.level ?? null
  if (outcome.priority)
    reasons.push(`priority ${priority} from rule ${ruleSetting(routing, 'priority')}`)
  else reasons.push('priority media by default: no rule set one')
  if (level) reasons.push(`level ${level} from rule ${ruleSetting(routing, 'level')}`)

  let reply: Reply | null = null
  let replyVeto: string | null = null
  const veto = (why: string) => {
    replyVeto = why
    reasons.push(`no automatic reply: ${why}; a person answers`)
  }
  const replyKind = outcome.reply ?? 'none'
  // Telling the customer a person takes over answers nothing: only the message's own signs
  // of a complaint, a threat or a payment problem hold it back, not the classifier's doubt.
  // Words a question shares with the knowledge-base entry that answers it are its topic, not
  // signs of a problem: "¿aceptan tarjeta?" asks about paying; "me cobraron dos veces" is a
  // payment problem, whatever the FAQ says about cards.
  const faqTopic =
    intent === 'faq' && question && faq && faq.similarity >= settings.faq.min_similarity
      ? rulebook.faq.vocabulary.get(faq.id)
      : undefined
  // A greeting or a thank-you alone has no content for the classifier to doubt.
  const byChance = replyKind !== 'handoff' && !text.smallTalk
  const sensitive =
    sensitivity(intent, signals, ruleScores, combined, hits, faqTopic, byChance) ?? text.angry
  if (sensitive) {
    if (replyKind !== 'none') veto(sensitive)
  } else if (replyKind === 'faq') {
    if (faq && !needsHuman) {
      if (question) reply = { kind: 'faq', faqId: faq.id, similarity: faq.similarity }
      else veto('no FAQ answer: the message does not ask anything')
    }
  } else if (replyKind === 'ack' && !needsHuman && !((ruleScores.get(intent) ?? 0) > 0)) {
    // The acknowledgement promises the response time of the priority this intent got (a day
    // for a suggestion, an hour for a technical problem): that needs the rules' word for the
    // intent. The classifier alone may route a message, never answer it. (An unsure message's
    // acknowledgement promises the default time, whatever the intent: it still goes out.)
    veto(`no acknowledgement: only the classifier reads this as ${intent}`)
  } else if (replyKind !== 'none') {
    reply = { kind: replyKind }
  }

  const queue = outcome.queue ?? (needsHuman || outcome.ticket ? settings.default_queue : null)
  const assignedOperator = outcome.assigned_operator ? context.assignedOperator : null
  const signalList = [...signals]
  return {
    intent,
    confidence: round(confidence),
    priority,
    level,
    signals: signalList,
    amount,
    language,
    queue,
    needsHuman,
    ticket: outcome.ticket ?? null,
    reply,
    assignedOperator,
    acts,
    explanation: {
      summary: summarize(intent, confidence, signalList, queue, level, priority, needsHuman),
      language: {
        detected: guess.language,
        es: guess.es,
        en: guess.en,
        declared: input.language ?? null,
      },
      hits: hits.map(({ group, target, kind, term, matched, fuzzy, vetoed }) => ({
        group,
        target,
        kind,
        term,
        matched,
        fuzzy,
        ...(vetoed ? { vetoed } : {}),
      })),
      classifierSignals,
      ruleScores: roundedScores(ruleScores),
      classifier:
        classifier && classifierScores
          ? { name: classifier.name, top: bestThree(classifierScores) }
          : null,
      combined: combined.slice(0, 3).map((c) => ({ intent: c.intent, score: round(c.score) })),
      intentReason,
      acts,
      replyVeto,
      faq: faq && { ...faq, similarity: round(faq.similarity) },
      amounts: amount === null ? [] : [amount],
      routing,
      reasons,
    },
  }
}

/**
 * Why a message must not get any automatic reply, or null. Complaints, legal threats and
 * payment problems are answered by people: not only when that is the decided intent, but
 * whenever a rule found signs of one or the combined scores give them a real chance.
 */
function sensitivity(
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

// Words of the first and second person (folded): "me", "mi", "nos", "you", "your"…
const PERSONAL = new Set(
  'yo me mi mis conmigo nos nosotros nosotras nuestro nuestra nuestros nuestras tu tus te ti contigo usted ustedes su sus les le lo los la las vos i me my mine we us our ours you your yours'.split(
    ' ',
  ),
)

/** Whether the message speaks of its writer or its addressee (a first or second person). */
function personal(tokens: readonly Token[]): boolean {
  for (const token of tokens) if (PERSONAL.has(token.word)) return true
  return false
}

/** Whether every word a rule matched is a word of the knowledge-base entry (by its stem). */
function withinTopic(hit: Hit, topic: FaqVocabulary): boolean {
  if (hit.position < 0) return false
  return normalizeText(hit.matched).tokens.every(
    (t) => STOPWORDS.has(t.word) || topic.es.has(t.es[0]!) || topic.en.has(t.en),
  )
}

/**
 * A greeting or a closing ("gracias", "ok", 👍) with nothing else in it: every word is one
 * the rulebook's acts cover, or a function word. A closing wins over a greeting ("hola,
 * gracias"). A message without words is judged by its emoji.
 */
function smallTalk(
  hits: readonly Hit[],
  tokens: readonly Token[],
  text: string,
  /** The first token the author wrote (the addressees before it do not count). */
  from: number,
): 'greeting' | 'closing' | null {
  if (tokens.length === from) {
    if (ACK_EMOJI.test(text)) return 'closing'
    return GREETING_EMOJI.test(text) ? 'greeting' : null
  }
  const covered = new Uint8Array(tokens.length)
  let greeting = false
  let closing = false
  for (const hit of hits) {
    if (hit.group !== 'act' || hit.vetoed || hit.position < 0) continue
    if (hit.target !== 'greeting' && hit.target !== 'closing') continue
    if (hit.target === 'greeting') greeting = true
    else closing = true
    const words = hit.matched.split(' ').length
    for (let k = 0; k < words && hit.position + k < tokens.length; k++)
      covered[hit.position + k] = 1
  }
  if (!greeting && !closing) return null
  for (let i = from; i < tokens.length; i++) {
    if (!covered[i] && !FILLERS.has(tokens[i]!.word)) return null
  }
  return closing ? 'closing' : 'greeting'
}

// Function words and forms of address that may come with a greeting or a thank-you.
const FILLERS = new Set([
  ...STOPWORDS,
  ...'todos todas amigo amiga amigos equipo senor senora senorita joven jaja jajaja jeje jejeje ah oh eh uh nuevamente otra vez again team guys all everyone folks sir madam dear lot much so very really'.split(
    ' ',
  ),
])
// 👍 👌 🙏 🙌 👏 ✅ ☺ 🙂 😊 😀 😁 😃 ❤ 💙 💚 🤝 💯 — an acknowledgement without words.
const ACK_EMOJI =
  /[\u{1F44D}\u{1F44C}\u{1F64F}\u{1F64C}\u{1F44F}\u{2705}\u{263A}\u{1F642}\u{1F60A}\u{1F600}\u{1F601}\u{1F603}\u{2764}\u{1F499}\u{1F49A}\u{1F91D}\u{1F4AF}]/u
// 👋 — a wave.
const GREETING_EMOJI = /\u{1F44B}/u

/**
 * Which languages' rule terms to try: both, unless the message is plainly one language (two
 * or more function words of it and none of the other).
 */
function termLanguages(guess: { es: number; en: number }): ('es' | 'en')[] {
  // Plainly one language: two or more of its function words and at most a third as many of
  // the other's (a few words look alike: "me", "a"). "Solicito reembolso" is not an English
  // solicitor.
  if (guess.en >= 2 && guess.es * 3 <= guess.en) return ['en']
  if (guess.es >= 2 && guess.en * 3 <= guess.es) return ['es']
  return ['es', 'en']
}

const QUESTION_START = new Set(
  'que cual cuales cuanto cuanta cuantos cuantas como donde cuando quien hay tienen tiene aceptan acepta puedo puede pueden se hacen venden lavan atienden abren es son estan incluye what which how where when who do does can could is are will would should may'.split(
    ' ',
  ),
)

const OPENERS = new Set(
  'hola hi hello buenas buenos buen dia dias tardes noches hey oye consulta una pregunta good morning afternoon evening'.split(
    ' ',
  ),
)
// "Quisiera saber…", "¿me podrían decir…", "I'd like to know…": a question asked as a request.
const INDIRECT_QUESTION =
  /^(quiero|quisiera|queria|necesito|necesitaria|deseo|deseaba|me gustaria|podrian|pueden|puede|podria|me podrian|me pueden|me puede|me podria|me dicen|me dice|me informan|me indican|i want to|i would like to|i d like to|i need to|can you|could you|please|i am|i was)( \w+)? (saber|consultar|preguntar|conocer|decir|indicar|informar|informacion|know|ask|tell|wondering|find out)\b/

/**
 * An FAQ answer goes only to a question: a "?", a first word that opens one, or a request to
 * know ("quisiera saber el horario"). "The express wash took over an hour" shares words with
 * an FAQ but is a complaint, not a question.
 */
function isQuestion(text: string, tokens: readonly Token[]): boolean {
  if (/[?¿]/.test(text)) return true
  let start = 0
  while (start < tokens.length && OPENERS.has(tokens[start]!.word)) start++
  const first = tokens[start]
  if (first === undefined) return false
  if (QUESTION_START.has(first.word)) return true
  const opening = tokens
    .slice(start, start + 5)
    .map((t) => t.word)
    .join(' ')
  return INDIRECT_QUESTION.test(opening)
}

function angry(words: readonly string[]): string | null {
  return words.length > 0 ? `strongly negative words (${words.slice(0, 3).join(', ')})` : null
}

function ruleSetting(routing: Explanation['routing'], field: string): string {
  return routing.find((r) => r.set.some((s) => s.startsWith(`${field}=`)))?.rule ?? '?'
}

const round = (value: number) => Math.round(value * 1000) / 1000

// The two helpers below build parts of every explanation; they run on every message, so they
// loop instead of spreading, mapping and sorting whole score maps.

/** Rule scores as a plain object, rounded, in the order the rules found them. */
function roundedScores(scores: ReadonlyMap<string, number>): Partial<Record<IntentId, number>> {
  const out: Partial<Record<string, number>> = {}
  for (const [target, score] of scores) out[target] = round(score)
  return out
}

/** The three best classifier scores, rounded, best first; ties keep the model's order. */
function bestThree(scores: ReadonlyMap<IntentId, number>): { intent: IntentId; score: number }[] {
  const top: { intent: IntentId; score: number }[] = []
  for (const [intent, raw] of scores) {
    const score = round(raw)
    let at = top.length
    while (at > 0 && top[at - 1]!.score < score) at--
    if (at >= 3) continue
    top.splice(at, 0, { intent, score })
    if (top.length > 3) top.pop()
  }
  return top
}

function summarize(
  intent: IntentId,
  confidence: number,
  signals: readonly DecisionSignal[],
  queue: string | null,
  level: Level | null,
  priority: Priority,
  needsHuman: boolean,
): string {
  const parts = [`${intent} (${Math.round(confidence * 100)}%)`]
  if (signals.length > 0) parts.push(`signals: ${signals.join(', ')}`)
  parts.push(`priority ${priority}`)
  if (level) parts.push(level)
  if (queue) parts.push(`queue ${queue}`)
  if (needsHuman) parts.push('needs a person')
  return parts.join(' · ')
}
