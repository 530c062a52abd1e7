import { z } from 'zod'
import {
  CorrectionFields,
  currentJudgement,
  listCorrections,
  recordCorrection,
} from '../learning/corrections.js'
import { activeModel, listModels, rollbackModel } from '../learning/model-store.js'
import type { AdminApiDeps } from './service.js'
import { By, HttpError, Id, parse, type ServiceInput } from './service-kit.js'

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
    correct: (req: ServiceInput) => {
      const decisionId = parse(Id, req.params.id)
      const body = parse(CorrectBody, req.body ?? {})
      const { by, source, ...fields } = body
      if (fields.queue && !(fields.queue in deps.rulebook().queues))
        throw new HttpError(400, `queue: no queue "${fields.queue}" in the rulebook`)
      const result = recordCorrection(db, { decisionId, source, actor: by, fields, at: now() })
      if (result.outcome === 'unknown_decision')
        throw new HttpError(404, `decision ${decisionId} not found`)
      deps.logger.info({ decisionId, outcome: result.outcome, source }, 'decision corrected')
      return {
        outcome: result.outcome,
        ...(result.outcome === 'recorded' ? { id: result.id, changed: result.changed } : {}),
        decision: currentJudgement(db, decisionId),
      }
    },

    /** The newest corrections (the export is `GET /api/corrections?format=jsonl`). */
    corrections: (req: ServiceInput) => {
      const q = parse(
        z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        req.query,
      )
      return { corrections: listCorrections(db, { limit: q.limit }) }
    },

    /** Every training, newest first, and which model is in use (null: the corpus model). */
    models: (_req: ServiceInput) => ({
      active: activeModel(db)?.id ?? null,
      models: listModels(db),
    }),

    /** Back to the model before the active one (or the corpus model). */
    rollback: (req: ServiceInput) => {
      const { by } = parse(z.object({ by: By }), req.body ?? {})
      const result = rollbackModel(db, by, now())
      if (result.outcome === 'nothing_to_roll_back')
        throw new HttpError(409, 'the corpus model is in use: nothing to roll back')
      return result
    },

    /**
     * Starts a retrain in a child process; with `?wait=true` answers with its outcome, else at
     * once (202). The hub takes an adopted model up within seconds.
     */
    retrain: async (req: ServiceInput) => {
      const q = parse(z.object({ wait: z.enum(['true', 'false']).default('false') }), req.query)
      const { by } = parse(z.object({ by: By }), req.body ?? {})
      if (!deps.retrainer) throw new HttpError(409, 'retraining runs from the CLI here')
      if (deps.retrainer.running) throw new HttpError(409, 'a retrain is already running')
      const run = deps.retrainer.run(by)
      if (q.wait === 'false') return { started: true }
      const outcome = await run
      if (outcome.outcome === 'failed') throw new HttpError(500, outcome.reason)
      return outcome
    },
  }
}
