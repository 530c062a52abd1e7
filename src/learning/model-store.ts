import type { classifierModels } from '../store/schema.js'
import { list, type Sql } from '../store/sql.js'
import { audit } from '../store/ticket-store.js'

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

const COLUMNS = `id, status, reason, metrics, corpus_hash as "corpusHash",
  model_version as "modelVersion", through_correction as "throughCorrection", corrections, "by",
  created_at as "createdAt", activated_at as "activatedAt",
  case when model is null then 0 else 1 end as kept`

const toView = (row: Omit<ModelView, 'metrics' | 'kept'> & { metrics: string; kept: number }) => ({
  ...row,
  metrics: JSON.parse(row.metrics) as unknown,
  kept: Number(row.kept) === 1,
})
type Stored = Parameters<typeof toView>[0]

/** Every model row, newest first (without the weights). */
export async function listModels(db: Sql, limit = 50): Promise<ModelView[]> {
  const rows = await db.all<Stored>(
    `select ${COLUMNS} from classifier_models order by id desc limit ?`,
    [limit],
  )
  return rows.map(toView)
}

/** The active model's row (without the weights), or null for the corpus model. */
export async function activeModel(db: Sql): Promise<ModelView | null> {
  const row = await db.get<Stored>(
    `select ${COLUMNS} from classifier_models where status = 'active'`,
  )
  return row ? toView(row) : null
}

/** Which model is active (0: the corpus model): what the hub polls for. */
export async function activeModelId(db: Sql): Promise<number> {
  const row = await db.get<{ id: number }>(
    `select id from classifier_models where status = 'active'`,
  )
  return row?.id ?? 0
}

/** The weights of model `id`, if kept. */
export async function modelWeights(db: Sql, id: number): Promise<Buffer | null> {
  const row = await db.get<{ model: Buffer | null }>(
    'select model from classifier_models where id = ?',
    [id],
  )
  return row?.model ?? null
}

/** The newest training, adopted or not (the scheduled retrain waits from it). */
export async function latestTraining(db: Sql): Promise<ModelView | null> {
  const row = await db.get<Stored>(
    `select ${COLUMNS} from classifier_models order by id desc limit 1`,
  )
  return row ? toView(row) : null
}

type NewModel = Pick<
  ModelView,
  'reason' | 'metrics' | 'corpusHash' | 'modelVersion' | 'throughCorrection' | 'corrections' | 'by'
> & { at: number }

/** Stores a training that was not adopted (no weights). */
export function storeRefused(db: Sql, model: NewModel): Promise<number> {
  return db.transaction(async (tx) => {
    const id = await insertModel(tx, model, 'refused')
    await auditModel(tx, model.at, model.by, 'model.refused', id, { reason: model.reason })
    return id
  })
}

/**
 * Makes a newly trained model the active one: the one before becomes `previous` (a rollback
 * returns to it), and only the newest `KEPT_MODELS` keep their weights. `weights` is given the
 * new row's id, which the model's name carries.
 */
export function storeAdopted(
  db: Sql,
  model: NewModel,
  weights: (id: number) => Buffer,
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.run(`update classifier_models set status = 'previous' where status = 'active'`)
    const id = await insertModel(tx, model, 'active')
    await tx.run('update classifier_models set model = ?, activated_at = ? where id = ?', [
      weights(id),
      model.at,
      id,
    ])
    await pruneWeights(tx)
    await auditModel(tx, model.at, model.by, 'model.adopted', id, { reason: model.reason })
    return id
  })
}

async function insertModel(tx: Sql, model: NewModel, status: ModelStatus): Promise<number> {
  const row = await tx.get<{ id: number }>(
    `insert into classifier_models (status, reason, metrics, corpus_hash, model_version,
       through_correction, corrections, "by", created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    [
      status,
      model.reason,
      JSON.stringify(model.metrics),
      model.corpusHash,
      model.modelVersion,
      model.throughCorrection,
      model.corrections,
      model.by,
      model.at,
    ],
  )
  return row!.id
}

async function pruneWeights(tx: Sql): Promise<void> {
  const kept = (
    await tx.all<{ id: number }>(
      `select id from classifier_models
        where status in ('active', 'previous') and model is not null
        order by id desc limit ${KEPT_MODELS}`,
    )
  ).map((r) => r.id)
  await tx.run(
    `update classifier_models set model = null
      where model is not null and id not in (${list(kept)})`,
    kept,
  )
  // An earlier model without weights cannot be returned to.
  await tx.run(
    `update classifier_models set status = 'retired' where status = 'previous' and model is null`,
  )
}

export type RollbackOutcome =
  | { outcome: 'rolled_back'; from: number; to: number | null }
  | { outcome: 'nothing_to_roll_back' }

/**
 * Puts the model before the active one back in use: the newest `previous` model, or the corpus
 * model when there is none. The active one is retired (it is not returned to by a later rollback).
 */
export function rollbackModel(db: Sql, by: string, at: number): Promise<RollbackOutcome> {
  return db.transaction(async (tx) => {
    const current = await tx.get<{ id: number }>(
      `select id from classifier_models where status = 'active'`,
    )
    if (!current) return { outcome: 'nothing_to_roll_back' } as const
    await tx.run(`update classifier_models set status = 'retired', model = null where id = ?`, [
      current.id,
    ])
    const before = await tx.get<{ id: number }>(
      `select id from classifier_models where status = 'previous' and model is not null
        order by id desc limit 1`,
    )
    if (before)
      await tx.run(
        `update classifier_models set status = 'active', activated_at = ? where id = ?`,
        [at, before.id],
      )
    await auditModel(tx, at, by, 'model.rolled_back', current.id, { to: before?.id ?? 'corpus' })
    return { outcome: 'rolled_back', from: current.id, to: before?.id ?? null } as const
  })
}

function auditModel(
  tx: Sql,
  at: number,
  actor: string,
  action: string,
  id: number,
  details: object,
) {
  return audit(tx, { actor, action, subject: `model:${id}`, details }, at)
}
