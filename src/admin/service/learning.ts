import { z } from 'zod'
import {
  CorrectionFields,
  currentJudgement,
  listCorrections,
  recordCorrection,
} from '../../learning/corrections.js'
import { activeModel, listModels, rollbackModel } from '../../learning/model-store.js'
import type { Retrainer } from '../../learning/run-retrain.js'
import {
  type AdminApiDeps,
  By,
  conflict,
  Id,
  invalid,
  notFound,
  type Outcome,
  ok,
  read,
  type ServiceInput,
} from './kit.js'

type RetrainOutcome = Awaited<ReturnType<Retrainer['run']>>

const CorrectBody = CorrectionFields.extend({
  by: By,
  /** The console says it is the console; anything else calling the API is the API. */
  source: z.enum(['console', 'api']).default('api'),
}).strict()

/**
 * The admin operations of learning from corrections: correcting a decision, the corrections,
 * the models trained on them, a rollback, a retrain.
 */
export function learningService(deps: AdminApiDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()
  return {
    /** A person corrects decision `:id` (intent, signals, level, queue): a labelled example. */
    async correct(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(CorrectBody, req.body ?? {})
      if (!body.ok) return body.refusal
      const { by, source, ...fields } = body.value
      if (fields.queue && !(fields.queue in deps.rulebook().queues))
        return invalid(`queue: no queue "${fields.queue}" in the rulebook`)
      const decisionId = id.value
      const result = await recordCorrection(db, {
        decisionId,
        source,
        actor: by,
        fields,
        at: now(),
      })
      if (result.outcome === 'unknown_decision') return notFound(`decision ${decisionId} not found`)
      deps.logger.info({ decisionId, outcome: result.outcome, source }, 'decision corrected')
      return ok({
        outcome: result.outcome,
        ...(result.outcome === 'recorded' ? { id: result.id, changed: result.changed } : {}),
        decision: await currentJudgement(db, decisionId),
      })
    },

    /** The newest corrections (the export is `GET /api/corrections?format=jsonl`). */
    async corrections(req: ServiceInput) {
      const q = read(
        z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        req.query,
      )
      if (!q.ok) return q.refusal
      return ok({ corrections: await listCorrections(db, { limit: q.value.limit }) })
    },

    /** Every training, newest first, and which model is in use (null: the corpus model). */
    async models(_req?: ServiceInput) {
      const [active, models] = await Promise.all([activeModel(db), listModels(db)])
      return ok({ active: active?.id ?? null, models })
    },

    /** Back to the model before the active one (or the corpus model). */
    async rollback(req: ServiceInput) {
      const body = read(z.object({ by: By }), req.body ?? {})
      if (!body.ok) return body.refusal
      const result = await rollbackModel(db, body.value.by, now())
      if (result.outcome === 'nothing_to_roll_back')
        return conflict('the corpus model is in use: nothing to roll back')
      return ok(result)
    },

    /**
     * Starts a retrain in a child process; with `?wait=true` answers with its outcome, else at
     * once (202). The hub takes an adopted model up within seconds.
     */
    async retrain(req: ServiceInput): Promise<Outcome<{ started: true } | RetrainOutcome>> {
      const q = read(z.object({ wait: z.enum(['true', 'false']).default('false') }), req.query)
      if (!q.ok) return q.refusal
      const body = read(z.object({ by: By }), req.body ?? {})
      if (!body.ok) return body.refusal
      if (!deps.retrainer) return conflict('retraining runs from the CLI here')
      if (deps.retrainer.running) return conflict('a retrain is already running')
      const run = deps.retrainer.run(body.value.by)
      if (q.value.wait === 'false') return { outcome: 'accepted', body: { started: true } }
      const outcome = await run
      if (outcome.outcome === 'failed') return { outcome: 'failed', reason: outcome.reason }
      if (outcome.outcome === 'busy')
        return conflict('a retrain is already running (here or on another instance)')
      return { outcome: 'accepted', body: outcome }
    },
  }
}
