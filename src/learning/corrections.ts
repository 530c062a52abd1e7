import { z } from 'zod'
import { tableRows } from '../store/rows.js'
import { corrections } from '../store/schema.js'
import type { Sql } from '../store/sql.js'
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
export async function recordCorrection(
  db: Sql,
  input: {
    decisionId: number
    source: CorrectionSource
    actor: string
    fields: CorrectionFields
    at: number
  },
): Promise<CorrectionOutcome> {
  const decision = await decisionRow(db, input.decisionId)
  if (!decision) return { outcome: 'unknown_decision' }
  const decided = judgementOf(decision)
  const current = applyCorrections(decided, await correctionsOf(db, input.decisionId))
  const changed = differences(current, input.fields)
  if (Object.keys(changed).length === 0) return { outcome: 'unchanged' }
  const row = await db.get<{ id: number }>(
    `insert into corrections (message_id, decision_id, source, actor, text, language, decided,
       corrected, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    [
      decision.messageId,
      decision.id,
      input.source,
      input.actor.slice(0, 200),
      decision.subject ? `${decision.subject}\n${decision.text}` : decision.text,
      decision.language,
      JSON.stringify(decided),
      JSON.stringify(changed),
      input.at,
    ],
  )
  return { outcome: 'recorded', id: row!.id, changed }
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
export async function currentJudgement(db: Sql, decisionId: number): Promise<Judgement | null> {
  const decision = await decisionRow(db, decisionId)
  return decision
    ? applyCorrections(judgementOf(decision), await correctionsOf(db, decisionId))
    : null
}

async function correctionsOf(db: Sql, decisionId: number): Promise<CorrectionFields[]> {
  const rows = await db.all<{ corrected: string }>(
    'select corrected from corrections where decision_id = ? order by id',
    [decisionId],
  )
  return rows.map((r) => JSON.parse(r.corrected) as CorrectionFields)
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

function decisionRow(db: Sql, id: number): Promise<DecisionRow | undefined> {
  return db.get<DecisionRow>(
    `select d.id, d.message_id as "messageId", d.intent, d.signals, d.level, d.queue,
            d.language, m.text, m.subject
       from triage_decisions d join messages m on m.id = d.message_id
      where d.id = ?`,
    [id],
  )
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

const correctionRows = tableRows(corrections)
const CORRECTION = `select ${correctionRows.select('c')} from corrections c`

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
export async function listCorrections(
  db: Sql,
  options: { limit?: number; since?: number } = {},
): Promise<CorrectionView[]> {
  const rows =
    options.since !== undefined
      ? await db.all(`${CORRECTION} where c.created_at >= ? order by c.id`, [options.since])
      : await db.all(`${CORRECTION} order by c.id desc limit ?`, [options.limit ?? 100])
  return rows.map((row) => view(correctionRows.read(row)))
}

/** Every correction as one JSON object a line (`centralita corrections export`), in batches. */
export async function* correctionLines(db: Sql): AsyncGenerator<string> {
  const batch = 500
  let after = 0
  for (;;) {
    const rows = await db.all(`${CORRECTION} where c.id > ? order by c.id limit ${batch}`, [after])
    for (const row of rows) yield JSON.stringify(view(correctionRows.read(row)))
    if (rows.length < batch) return
    after = Number(rows.at(-1)!.id)
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

export async function learnedExamples(db: Sql): Promise<LearnedExample[]> {
  const rows = (await db.all(`${CORRECTION} order by c.id`)).map((row) => correctionRows.read(row))
  const byMessage = new Map<number, (typeof corrections.$inferSelect)[]>()
  for (const row of rows) {
    const own = byMessage.get(row.messageId) ?? []
    own.push(row)
    byMessage.set(row.messageId, own)
  }
  const out: LearnedExample[] = []
  for (const own of byMessage.values()) {
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

/** The latest decision on a customer's message in the conversation, if any. */
export function latestDecisionOf(db: Sql, conversationId: number) {
  return db.get<{ id: number }>(
    `select d.id from triage_decisions d join messages m on m.id = d.message_id
      where d.conversation_id = ? and m.direction = 'inbound'
      order by d.id desc limit 1`,
    [conversationId],
  )
}
