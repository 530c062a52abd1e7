import { and, desc, eq, gte, sql } from 'drizzle-orm'
import { z } from 'zod'
import type { Executor } from '../store/db.js'
import { corrections, messages, triageDecisions } from '../store/schema.js'
import { IntentId, Level, SignalId } from '../triage/rulebook/schema.js'

// A person's correction of a decision: what the hub decided, what the person changed, the text
// it was about, who and when. Corrections are the hub's labelled examples (`retrain.ts`), its
// live accuracy and the list of rules people keep correcting (`learning-report.ts`).

/** What the triage decided about a message, as a person can correct it. */
export type Judgement = {
  intent: IntentId
  signals: SignalId[]
  level: Level | null
  queue: string | null
}

/** The fields a person set: any of a judgement's, each with its new value. */
export const CorrectionFields = z
  .object({
    intent: IntentId.optional(),
    signals: z.array(SignalId).max(4).optional(),
    level: Level.nullable().optional(),
    queue: z.string().min(1).max(100).nullable().optional(),
  })
  .strict()
export type CorrectionFields = z.infer<typeof CorrectionFields>

/** Where a person corrected a decision: the console, the API, or a staff inbox (its channel id). */
export type CorrectionSource = 'console' | 'api' | (string & {})

export type CorrectionOutcome =
  | { outcome: 'recorded'; id: number; changed: CorrectionFields }
  /** The person set what the hub had decided (or what an earlier correction set). */
  | { outcome: 'unchanged' }
  | { outcome: 'unknown_decision' }

/**
 * Records a correction of decision `decisionId`, keeping only the fields that differ from the
 * decision as it stands (with earlier corrections applied): a form sent back as it was shown,
 * or a label the hub set itself, is not a correction.
 */
export function recordCorrection(
  db: Executor,
  input: {
    decisionId: number
    source: CorrectionSource
    actor: string
    fields: CorrectionFields
    at: number
  },
): CorrectionOutcome {
  const decision = decisionRow(db, input.decisionId)
  if (!decision) return { outcome: 'unknown_decision' }
  const decided = judgementOf(decision)
  const current = applyCorrections(decided, correctionsOf(db, input.decisionId))
  const changed = differences(current, input.fields)
  if (Object.keys(changed).length === 0) return { outcome: 'unchanged' }
  const row = db
    .insert(corrections)
    .values({
      messageId: decision.messageId,
      decisionId: decision.id,
      source: input.source,
      actor: input.actor.slice(0, 200),
      text: decision.subject ? `${decision.subject}\n${decision.text}` : decision.text,
      language: decision.language,
      decided: JSON.stringify(decided),
      corrected: JSON.stringify(changed),
      createdAt: input.at,
    })
    .returning({ id: corrections.id })
    .get()
  return { outcome: 'recorded', id: row.id, changed }
}

/** The fields of `fields` that differ from `current`, signals compared as sets. */
function differences(current: Judgement, fields: CorrectionFields): CorrectionFields {
  const changed: CorrectionFields = {}
  if (fields.intent !== undefined && fields.intent !== current.intent)
    changed.intent = fields.intent
  if (fields.signals !== undefined) {
    const wanted = [...new Set(fields.signals)].sort()
    if (wanted.join() !== [...current.signals].sort().join()) changed.signals = wanted
  }
  if (fields.level !== undefined && fields.level !== current.level) changed.level = fields.level
  if (fields.queue !== undefined && fields.queue !== current.queue) changed.queue = fields.queue
  return changed
}

/** A judgement with corrections applied in order (a later one wins for the fields it sets). */
export function applyCorrections(
  decided: Judgement,
  fields: readonly CorrectionFields[],
): Judgement {
  let out = decided
  for (const f of fields) {
    out = {
      intent: f.intent ?? out.intent,
      signals: f.signals ?? out.signals,
      level: f.level !== undefined ? f.level : out.level,
      queue: f.queue !== undefined ? f.queue : out.queue,
    }
  }
  return out
}

/** A decision as it stands: as decided, with people's corrections applied. */
export function currentJudgement(db: Executor, decisionId: number): Judgement | null {
  const decision = decisionRow(db, decisionId)
  return decision ? applyCorrections(judgementOf(decision), correctionsOf(db, decisionId)) : null
}

function correctionsOf(db: Executor, decisionId: number): CorrectionFields[] {
  return db
    .select({ corrected: corrections.corrected })
    .from(corrections)
    .where(eq(corrections.decisionId, decisionId))
    .orderBy(corrections.id)
    .all()
    .map((r) => JSON.parse(r.corrected) as CorrectionFields)
}

type DecisionRow = {
  id: number
  messageId: number
  intent: string
  signals: string
  level: string | null
  queue: string | null
  language: string
  text: string
  subject: string | null
}

function decisionRow(db: Executor, id: number): DecisionRow | undefined {
  return db
    .select({
      id: triageDecisions.id,
      messageId: triageDecisions.messageId,
      intent: triageDecisions.intent,
      signals: triageDecisions.signals,
      level: triageDecisions.level,
      queue: triageDecisions.queue,
      language: triageDecisions.language,
      text: messages.text,
      subject: messages.subject,
    })
    .from(triageDecisions)
    .innerJoin(messages, eq(messages.id, triageDecisions.messageId))
    .where(eq(triageDecisions.id, id))
    .get()
}

export function judgementOf(row: Pick<DecisionRow, 'intent' | 'signals' | 'level' | 'queue'>) {
  return {
    intent: row.intent as IntentId,
    signals: JSON.parse(row.signals) as SignalId[],
    level: row.level as Level | null,
    queue: row.queue,
  } satisfies Judgement
}

/** A stored correction, as listed and exported. */
export type CorrectionView = {
  id: number
  messageId: number
  decisionId: number
  source: string
  actor: string
  text: string
  language: string
  decided: Judgement
  corrected: CorrectionFields
  at: string
}

const view = (row: typeof corrections.$inferSelect): CorrectionView => ({
  id: row.id,
  messageId: row.messageId,
  decisionId: row.decisionId,
  source: row.source,
  actor: row.actor,
  text: row.text,
  language: row.language,
  decided: JSON.parse(row.decided) as Judgement,
  corrected: JSON.parse(row.corrected) as CorrectionFields,
  at: new Date(row.createdAt).toISOString(),
})

/** Corrections, newest first (or every one since `since`, oldest first, for an export). */
export function listCorrections(
  db: Executor,
  options: { limit?: number; since?: number } = {},
): CorrectionView[] {
  if (options.since !== undefined) {
    return db
      .select()
      .from(corrections)
      .where(gte(corrections.createdAt, options.since))
      .orderBy(corrections.id)
      .all()
      .map(view)
  }
  return db
    .select()
    .from(corrections)
    .orderBy(desc(corrections.id))
    .limit(options.limit ?? 100)
    .all()
    .map(view)
}

/** Every correction as one JSON object a line (`centralita corrections export`). */
export function* correctionLines(db: Executor): Generator<string> {
  const batch = 500
  let after = 0
  for (;;) {
    const rows = db
      .select()
      .from(corrections)
      .where(sql`${corrections.id} > ${after}`)
      .orderBy(corrections.id)
      .limit(batch)
      .all()
    for (const row of rows) yield JSON.stringify(view(row))
    if (rows.length < batch) return
    after = rows.at(-1)!.id
  }
}

/**
 * A labelled example for the classifier: the latest word of people on each message whose
 * intent or signals they corrected (a level or queue corrected alone teaches the classifier
 * nothing). `id` is the newest correction behind it.
 */
export type LearnedExample = {
  id: number
  text: string
  lang: 'es' | 'en'
  intent: IntentId
  signals: SignalId[]
}

export function learnedExamples(db: Executor): LearnedExample[] {
  const rows = db.select().from(corrections).orderBy(corrections.id).all()
  const byMessage = new Map<number, { rows: (typeof corrections.$inferSelect)[] }>()
  for (const row of rows) {
    const entry = byMessage.get(row.messageId) ?? { rows: [] }
    entry.rows.push(row)
    byMessage.set(row.messageId, entry)
  }
  const out: LearnedExample[] = []
  for (const { rows: own } of byMessage.values()) {
    const fields = own.map((r) => JSON.parse(r.corrected) as CorrectionFields)
    if (!fields.some((f) => f.intent !== undefined || f.signals !== undefined)) continue
    const last = own.at(-1)!
    const judged = applyCorrections(JSON.parse(last.decided) as Judgement, fields)
    out.push({
      id: last.id,
      text: last.text,
      lang: last.language === 'en' ? 'en' : 'es',
      intent: judged.intent,
      signals: judged.signals,
    })
  }
  return out.sort((a, b) => a.id - b.id)
}

/** The newest correction's id (0 when there is none). */
export function newestCorrection(db: Executor): number {
  return (
    db
      .select({ id: sql<number>`coalesce(max(${corrections.id}), 0)` })
      .from(corrections)
      .get()?.id ?? 0
  )
}

/** The latest decision on a customer's message in the conversation, if any. */
export function latestDecisionOf(db: Executor, conversationId: number) {
  return db
    .select({ id: triageDecisions.id })
    .from(triageDecisions)
    .innerJoin(messages, eq(messages.id, triageDecisions.messageId))
    .where(
      and(eq(triageDecisions.conversationId, conversationId), eq(messages.direction, 'inbound')),
    )
    .orderBy(desc(triageDecisions.id))
    .limit(1)
    .get()
}
