import { z } from 'zod'
import { ActId, Duration, IntentId, Level, Priority, SignalId, TicketType } from './schema-base.js'
import { CalendarsFile } from './schema-calendars.js'
import {
  EscalationFile,
  FaqFile,
  PrioritiesFile,
  QueuesFile,
  TemplatesFile,
} from './schema-staff.js'

export * from './schema-base.js'
export * from './schema-calendars.js'
export * from './schema-staff.js'

const Weighted = z.union([
  z.string().min(1),
  z.object({ term: z.string().min(1), weight: z.number().positive().max(10) }).strict(),
])
export type Weighted = z.infer<typeof Weighted>

/** Words that must all appear in one clause, one from each list ("rayado" … "auto"). */
const Together = z
  .object({
    all: z.array(z.array(z.string().min(1)).min(1)).min(2),
    weight: z.number().positive().max(10).default(2),
  })
  .strict()

/** Words, phrases and regular expressions for one language. */
const Terms = z
  .object({
    /** Matched on their stems: every form of the word counts. */
    keywords: z.array(Weighted).default([]),
    /** Matched only in exactly this form (still with one typo): "rayaron" but not "rayas". */
    words: z.array(Weighted).default([]),
    phrases: z.array(Weighted).default([]),
    patterns: z.array(Weighted).default([]),
    together: z.array(Together).default([]),
    /** Phrases that, in the same clause, cancel a hit ("mi abogado me recomendó"). */
    exceptions: z.array(z.string().min(1)).default([]),
  })
  .strict()
export type Terms = z.infer<typeof Terms>
const EMPTY_TERMS = {
  keywords: [],
  words: [],
  phrases: [],
  patterns: [],
  together: [],
  exceptions: [],
}

const MatchTarget = z
  .object({
    description: z.string().optional(),
    /** A hit preceded (in its clause, within three words) by "no", "nunca", "not"… is dropped. */
    negation: z.boolean().default(true),
    es: Terms.default(EMPTY_TERMS),
    en: Terms.default(EMPTY_TERMS),
  })
  .strict()
export type MatchTarget = z.infer<typeof MatchTarget>

export const IntentsFile = z
  .object({
    intents: z.partialRecord(IntentId, MatchTarget),
    signals: z.partialRecord(SignalId, MatchTarget),
    /**
     * Greetings, closings and requests for a person. A greeting or closing counts only when
     * the message says nothing else (every other word is a function word).
     */
    acts: z.partialRecord(ActId, MatchTarget).default({}),
  })
  .strict()

export const SettingsFile = z
  .object({
    classifier: z
      .object({
        /** Below this confidence the message goes to a human, never to an automatic answer. */
        min_confidence: z.number().min(0).max(1),
        /** Below this gap between the two best intents the message is ambiguous: a human decides. */
        min_margin: z.number().min(0).max(1),
      })
      .strict(),
    /** Queue for anything that needs a human and no rule routes. */
    default_queue: z.string().min(1),
    /** Language of replies when the message's own cannot be told. */
    default_language: z.enum(['es', 'en']).default('es'),
    faq: z
      .object({
        /** Minimum similarity (0–1) between the message and a knowledge-base question to answer it. */
        min_similarity: z.number().min(0).max(1),
      })
      .strict(),
    /**
     * The classifier's L3 signal models: on a message that reads as a complaint, a signal the
     * rules missed is added when its probability reaches this. Omit to use the rules alone.
     */
    l3_classifier: z
      .object({ min_probability: z.number().min(0.5).max(1) })
      .strict()
      .optional(),
    /** A customer with this many complaints within the window is a repeat complainer. */
    repeat_complaints: z.object({ count: z.number().int().min(2), window: Duration }).strict(),
    /**
     * Handles of news outlets (case-insensitive): tagging one in a grievance is going public
     * (a media threat). An entry starting with `*` matches any handle that contains the rest.
     */
    news_outlets: z.array(z.string().min(2)).default([]),
    /** Learning from people's corrections (`src/learning/`). */
    learning: z
      .object({
        /**
         * Retrain by itself (opt-in): at most once per `every`, when at least `min_corrections`
         * new corrections of an intent or signals came in. Adopted only when not worse.
         */
        retrain: z
          .object({ every: Duration, min_corrections: z.number().int().min(1).default(10) })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    /** Loop and flood guards on what the hub sends on its own (FAQ answers, notices). */
    automatic_replies: z
      .object({
        /** At most this many automatic messages to one conversation within `window`. */
        per_conversation: z.number().int().min(1).default(3),
        /** At most this many automatic messages to one person (any conversation) within `window`. */
        per_recipient: z.number().int().min(1).default(5),
        window: Duration.default(86_400_000),
        /** The out-of-hours notice goes to a conversation at most once per this period. */
        out_of_hours_every: Duration.default(86_400_000),
        /** No automatic answer while a person answered the conversation this recently. */
        agent_quiet: Duration.default(1_800_000),
      })
      .strict()
      .default({
        per_conversation: 3,
        per_recipient: 5,
        window: 86_400_000,
        out_of_hours_every: 86_400_000,
        agent_quiet: 1_800_000,
      }),
  })
  .strict()

const Condition = z
  .object({
    intent: z.union([IntentId, z.array(IntentId)]).optional(),
    signal: z.union([SignalId, z.array(SignalId)]).optional(),
    channel: z.union([z.string(), z.array(z.string())]).optional(),
    role: z
      .union([
        z.enum(['visitor', 'customer', 'operator', 'agent', 'bot', 'system']),
        z.array(z.enum(['visitor', 'customer', 'operator', 'agent', 'bot', 'system'])),
      ])
      .optional(),
    in_hours: z.boolean().optional(),
    language: z.enum(['es', 'en']).optional(),
    amount_over: z.number().nonnegative().optional(),
    repeat_complainer: z.boolean().optional(),
    /** The operator involved is on the improvement-plan list (escalation.yaml). */
    improvement_plan: z.boolean().optional(),
    needs_human: z.boolean().optional(),
    /** The message is a greeting alone, a closing alone, or asks for a person. */
    act: z.union([ActId, z.array(ActId)]).optional(),
  })
  .strict()
export type Condition = z.infer<typeof Condition>

/**
 * faq: the knowledge base's answer; ack: the message was received, when to expect an answer;
 * out_of_hours: when the team is back; welcome: a greeting answered with what the hub can
 * answer; handoff: a person takes the conversation, and when they will answer; none.
 */
export const ReplyKind = z.enum(['faq', 'ack', 'out_of_hours', 'welcome', 'handoff', 'none'])
export type ReplyKind = z.infer<typeof ReplyKind>

const Outcome = z
  .object({
    queue: z.string().min(1).optional(),
    priority: Priority.optional(),
    level: Level.optional(),
    ticket: TicketType.optional(),
    reply: ReplyKind.optional(),
    /** Route to the conversation's assigned operator when it has one (internal chat). */
    assigned_operator: z.boolean().optional(),
  })
  .strict()
export type Outcome = z.infer<typeof Outcome>

export const RoutingFile = z
  .object({
    rules: z.array(
      z
        .object({
          id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lower-case letters, digits, - and _'),
          description: z.string().optional(),
          when: Condition,
          // biome-ignore lint/suspicious/noThenProperty: `then` is the rulebook's own word (when → then)
          then: Outcome,
          /** Stop reading further rules once this one matched. */
          stop: z.boolean().default(false),
        })
        .strict(),
    ),
  })
  .strict()

/**
 * The business's own vocabulary (`business.yaml`, optional): the same sections as
 * `intents.yaml`, whose terms are added to the general ones. The words of the products and
 * services of one business live here, so another business replaces this file and keeps the
 * general rules, L3 detection among them.
 */
export const BusinessFile = z
  .object({
    intents: z.partialRecord(IntentId, MatchTarget).default({}),
    signals: z.partialRecord(SignalId, MatchTarget).default({}),
    acts: z.partialRecord(ActId, MatchTarget).default({}),
  })
  .strict()

/** The files of a rulebook and the schema each must satisfy. */
export const RULEBOOK_FILES = {
  'settings.yaml': SettingsFile,
  'intents.yaml': IntentsFile,
  'routing.yaml': RoutingFile,
  'queues.yaml': QueuesFile,
  'priorities.yaml': PrioritiesFile,
  'templates.yaml': TemplatesFile,
  'faq.yaml': FaqFile,
  'calendars.yaml': CalendarsFile,
  'escalation.yaml': EscalationFile,
} as const

export type RulebookSource = {
  settings: z.infer<typeof SettingsFile>
  intents: z.infer<typeof IntentsFile>
  /** The business's own vocabulary, when the rulebook has a `business.yaml`. */
  business: z.infer<typeof BusinessFile> | null
  routing: z.infer<typeof RoutingFile>
  queues: z.infer<typeof QueuesFile>
  priorities: z.infer<typeof PrioritiesFile>
  templates: z.infer<typeof TemplatesFile>
  faq: z.infer<typeof FaqFile>
  calendars: z.infer<typeof CalendarsFile>
  escalation: z.infer<typeof EscalationFile>
}

type Targets<K extends string> = Partial<Record<K, MatchTarget>>

/** Every rule term of the rulebook: the general ones with the business's added to them. */
export function allTerms(source: Pick<RulebookSource, 'intents' | 'business'>): {
  intents: Targets<IntentId>
  signals: Targets<SignalId>
  acts: Targets<ActId>
} {
  const { intents, business } = source
  if (!business) return intents
  return {
    intents: mergeTargets(intents.intents, business.intents),
    signals: mergeTargets(intents.signals, business.signals),
    acts: mergeTargets(intents.acts, business.acts),
  }
}

function mergeTargets<K extends string>(base: Targets<K>, extra: Targets<K>): Targets<K> {
  const out: Targets<K> = { ...base }
  for (const [id, more] of Object.entries(extra) as [K, MatchTarget | undefined][]) {
    const mine = out[id]
    if (!more) continue
    if (!mine) {
      out[id] = more
      continue
    }
    const join = (a: Terms, b: Terms): Terms => ({
      keywords: [...a.keywords, ...b.keywords],
      words: [...a.words, ...b.words],
      phrases: [...a.phrases, ...b.phrases],
      patterns: [...a.patterns, ...b.patterns],
      together: [...a.together, ...b.together],
      exceptions: [...a.exceptions, ...b.exceptions],
    })
    out[id] = { ...mine, es: join(mine.es, more.es), en: join(mine.en, more.en) }
  }
  return out
}
