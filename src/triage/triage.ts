import { analyzeText, SHORT } from './analyze-text.js'
import { bestThree, round, roundedScores, ruleSetting, summarize } from './explain.js'
import type { FaqMatch } from './faq-answerer.js'
import { conditionHolds, type RoutingFacts } from './routing-conditions.js'
import type { Rulebook } from './rulebook/compile.js'
import { SIGNALS } from './rulebook/ids.js'
import type {
  ActId,
  IntentId,
  Level,
  Priority,
  ReplyKind,
  SignalId,
  TicketType,
} from './rulebook/schema.js'
import { NO_AUTO_REPLY, sensitivity } from './sensitivity.js'
import type {
  Decision,
  DecisionSignal,
  Explanation,
  IntentClassifier,
  Reply,
  TextAnalysis,
  TriageContext,
  TriageInput,
} from './types.js'

/** Below this classifier probability, with no rule evidence, a message is "other". */
const OTHER_FLOOR = 0.5

const SHORT_FLOOR = 0.7

/**
 * Share of a message's content words the classifier must know for its scores to decide an
 * intent without any rule's help.
 */
const KNOWN_FLOOR = 0.5

const L3_SIGNALS: ReadonlySet<SignalId> = new Set(SIGNALS)

const DEFAULT_CONTEXT: TriageContext = {
  inHours: null,
  recentComplaints: 0,
  assignedOperator: null,
  operatorOnImprovementPlan: false,
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

export { analyzeText, TRIAGE_TEXT_LIMIT } from './analyze-text.js'
export type {
  Decision,
  DecisionSignal,
  Explanation,
  IntentClassifier,
  Outcome,
  Reply,
  TextAnalysis,
  TextInput,
  TextRules,
  TriageContext,
  TriageInput,
} from './types.js'
