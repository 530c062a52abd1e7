import type { AuthorRole } from '../contracts/message.js'
import type { LanguageGuess } from './detect-language.js'
import type { FaqMatch } from './faq-answerer.js'
import type { Hit } from './match-terms.js'
import type { Token } from './normalize-text.js'
import type { Rulebook } from './rulebook/compile.js'
import type {
  ActId,
  IntentId,
  Level,
  Priority,
  RulebookSource,
  SignalId,
  TicketType,
} from './rulebook/schema.js'

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
