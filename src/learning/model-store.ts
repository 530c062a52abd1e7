import { and, desc, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm'
import { type Executor, writeTransaction } from '../store/db.js'
import { auditLog, classifierModels } from '../store/schema.js'

// The classifier models the hub trained on its corrections, in the database (every instance of
// a hub reads the same one). No active row means the model of the shipped corpus.

/** Adopted models whose weights are kept, the active one included (older ones cannot return). */
export const KEPT_MODELS = 3

export type ModelStatus = (typeof classifierModels.$inferSelect)['status']

/** A model row without its weights, as listed. */
export type ModelView = {
  id: number
  status: ModelStatus
  reason: string
  metrics: unknown
  corpusHash: string
  modelVersion: string
  throughCorrection: number
  corrections: number
  by: string
  createdAt: number
  activatedAt: number | null
  /** Whether its weights are still kept (a rollback can return to it). */
  kept: boolean
}

const columns = {
  id: classifierModels.id,
  status: classifierModels.status,
  reason: classifierModels.reason,
  metrics: classifierModels.metrics,
  corpusHash: classifierModels.corpusHash,
  modelVersion: classifierModels.modelVersion,
  throughCorrection: classifierModels.throughCorrection,
  corrections: classifierModels.corrections,
  by: classifierModels.by,
  createdAt: classifierModels.createdAt,
  activatedAt: classifierModels.activatedAt,
  kept: sql<number>`${classifierModels.model} is not null`,
}

const toView = (row: Omit<ModelView, 'metrics' | 'kept'> & { metrics: string; kept: number }) => ({
  ...row,
  metrics: JSON.parse(row.metrics) as unknown,
  kept: row.kept === 1,
})

/** Every model row, newest first (without the weights). */
export function listModels(db: Executor, limit = 50): ModelView[] {
  return db
    .select(columns)
    .from(classifierModels)
    .orderBy(desc(classifierModels.id))
    .limit(limit)
    .all()
    .map(toView)
}

/** The active model's row (without the weights), or null for the corpus model. */
export function activeModel(db: Executor): ModelView | null {
  const row = db
    .select(columns)
    .from(classifierModels)
    .where(eq(classifierModels.status, 'active'))
    .get()
  return row ? toView(row) : null
}

/** Which model is active (0: the corpus model): what the hub polls for. */
export function activeModelId(db: Executor): number {
  return (
    db
      .select({ id: classifierModels.id })
      .from(classifierModels)
      .where(eq(classifierModels.status, 'active'))
      .get()?.id ?? 0
  )
}

/** The weights of model `id`, if kept. */
export function modelWeights(db: Executor, id: number): Buffer | null {
  return (
    db
      .select({ model: classifierModels.model })
      .from(classifierModels)
      .where(eq(classifierModels.id, id))
      .get()?.model ?? null
  )
}

/** The newest training, adopted or not (the scheduled retrain waits from it). */
export function latestTraining(db: Executor): ModelView | null {
  const row = db.select(columns).from(classifierModels).orderBy(desc(classifierModels.id)).get()
  return row ? toView(row) : null
}

type NewModel = Pick<
  ModelView,
  'reason' | 'metrics' | 'corpusHash' | 'modelVersion' | 'throughCorrection' | 'corrections' | 'by'
> & { at: number }

/** Stores a training that was not adopted (no weights). */
export function storeRefused(db: Executor, model: NewModel): number {
  return writeTransaction(db, (tx) => {
    const id = insertModel(tx, model, 'refused')
    audit(tx, model.at, model.by, 'model.refused', id, { reason: model.reason })
    return id
  })
}

/**
 * Makes a newly trained model the active one: the one before becomes `previous` (a rollback
 * returns to it), and only the newest `KEPT_MODELS` keep their weights. `weights` is given the
 * new row's id, which the model's name carries.
 */
export function storeAdopted(
  db: Executor,
  model: NewModel,
  weights: (id: number) => Buffer,
): number {
  return writeTransaction(db, (tx) => {
    tx.update(classifierModels)
      .set({ status: 'previous' })
      .where(eq(classifierModels.status, 'active'))
      .run()
    const id = insertModel(tx, model, 'active')
    tx.update(classifierModels)
      .set({ model: weights(id), activatedAt: model.at })
      .where(eq(classifierModels.id, id))
      .run()
    pruneWeights(tx)
    audit(tx, model.at, model.by, 'model.adopted', id, { reason: model.reason })
    return id
  })
}

function insertModel(tx: Executor, model: NewModel, status: ModelStatus): number {
  return tx
    .insert(classifierModels)
    .values({
      status,
      reason: model.reason,
      metrics: JSON.stringify(model.metrics),
      corpusHash: model.corpusHash,
      modelVersion: model.modelVersion,
      throughCorrection: model.throughCorrection,
      corrections: model.corrections,
      by: model.by,
      createdAt: model.at,
    })
    .returning({ id: classifierModels.id })
    .get().id
}

function pruneWeights(tx: Executor): void {
  const kept = tx
    .select({ id: classifierModels.id })
    .from(classifierModels)
    .where(
      and(
        inArray(classifierModels.status, ['active', 'previous']),
        isNotNull(classifierModels.model),
      ),
    )
    .orderBy(desc(classifierModels.id))
    .limit(KEPT_MODELS)
    .all()
    .map((r) => r.id)
  tx.update(classifierModels)
    .set({ model: null })
    .where(and(isNotNull(classifierModels.model), notInArray(classifierModels.id, kept)))
    .run()
  // An earlier model without weights cannot be returned to.
  tx.update(classifierModels)
    .set({ status: 'retired' })
    .where(and(eq(classifierModels.status, 'previous'), sql`${classifierModels.model} is null`))
    .run()
}

export type RollbackOutcome =
  | { outcome: 'rolled_back'; from: number; to: number | null }
  | { outcome: 'nothing_to_roll_back' }

/**
 * Puts the model before the active one back in use: the newest `previous` model, or the corpus
 * model when there is none. The active one is retired (it is not returned to by a later rollback).
 */
export function rollbackModel(db: Executor, by: string, at: number): RollbackOutcome {
  return writeTransaction(db, (tx) => {
    const current = tx
      .select({ id: classifierModels.id })
      .from(classifierModels)
      .where(eq(classifierModels.status, 'active'))
      .get()
    if (!current) return { outcome: 'nothing_to_roll_back' } as const
    tx.update(classifierModels)
      .set({ status: 'retired', model: null })
      .where(eq(classifierModels.id, current.id))
      .run()
    const before = tx
      .select({ id: classifierModels.id })
      .from(classifierModels)
      .where(and(eq(classifierModels.status, 'previous'), isNotNull(classifierModels.model)))
      .orderBy(desc(classifierModels.id))
      .get()
    if (before) {
      tx.update(classifierModels)
        .set({ status: 'active', activatedAt: at })
        .where(eq(classifierModels.id, before.id))
        .run()
    }
    audit(tx, at, by, 'model.rolled_back', current.id, { to: before?.id ?? 'corpus' })
    return { outcome: 'rolled_back', from: current.id, to: before?.id ?? null } as const
  })
}

function audit(
  tx: Executor,
  at: number,
  actor: string,
  action: string,
  id: number,
  details: object,
) {
  tx.insert(auditLog)
    .values({ at, actor, action, subject: `model:${id}`, details: JSON.stringify(details) })
    .run()
}
