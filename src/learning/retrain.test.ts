import { beforeAll, describe, expect, it } from 'vitest'
import { decidedMessage } from '../../test/helpers/decided.js'
import { RULES_DIR, tempDir } from '../../test/helpers/hub.js'
import { ZENTRIX_FAULTS } from '../../test/helpers/zentrix.js'
import { closeDatabase, type Db, openDatabase } from '../store/db.js'
import { isHeldOut, loadCorpus, splitCorpus } from '../triage/classifier/corpus.js'
import { loadRulebook, type Rulebook } from '../triage/rulebook/compile.js'
import { recordCorrection } from './corrections.js'
import { formatModels } from './format.js'
import { activeModelId, listModels, rollbackModel } from './model-store.js'
import { retrain } from './retrain.js'

const CORPUS = 'data/corpus'

/** A message decided `decided`, corrected by a person to `intent`. */
function corrected(db: Db, text: string, decided: string, intent: string) {
  const { decisionId } = decidedMessage(db, text, { intent: decided })
  const result = recordCorrection(db, {
    decisionId,
    source: 'console',
    actor: 'Paula',
    fields: { intent: intent as never },
    at: Date.now(),
  })
  expect(result.outcome).toBe('recorded')
}

describe('retrain', () => {
  let rulebook: Rulebook
  beforeAll(() => {
    rulebook = loadRulebook(RULES_DIR)
  })
  const fresh = () => {
    const temp = tempDir()
    const db = openDatabase(`${temp.dir}/hub.db`)
    return {
      db,
      close: () => {
        closeDatabase(db)
        temp.cleanup()
      },
    }
  }
  const run = (db: Db) =>
    retrain(db, { corpusDir: CORPUS, rulebook, by: 'test', now: () => Date.now() })

  it('refuses a model that is worse on the held-out corpus, says why, and keeps the running one', () => {
    const { db, close } = fresh()
    try {
      // Careless corrections: a hundred ordinary messages of every kind marked "suggestion".
      const train = splitCorpus(loadCorpus(CORPUS).rows).train.filter(
        (r) => r.lang === 'es' && r.intent !== 'suggestion',
      )
      for (const row of train.slice(0, 100)) corrected(db, row.text, row.intent, 'suggestion')
      const result = run(db)
      expect(result.outcome).toBe('refused')
      if (result.outcome !== 'refused') return
      expect(result.reason).toMatch(
        /^worse than the corpus model: held-out corpus \d+\/\d+ \([\d.]+ %\) right against \d+\/\d+/,
      )
      const { candidate, reference } = result.metrics.corpus
      expect(candidate.correct).toBeLessThan(reference.correct - 2)
      expect(activeModelId(db)).toBe(0)
      const [row] = listModels(db)
      expect(row).toMatchObject({ id: result.modelId, status: 'refused', kept: false })
      expect(formatModels(listModels(db))).toContain(result.reason)
    } finally {
      close()
    }
  }, 60_000)

  it('adopts a model that learnt something and lost nothing; a rollback returns to the one before', () => {
    const { db, close } = fresh()
    try {
      expect(run(db)).toEqual({
        outcome: 'nothing_new',
        reason: 'no corrections of an intent or signals to learn from yet',
      })
      const faults = ZENTRIX_FAULTS.slice(0, 14)
      for (const text of faults) corrected(db, text, 'other', 'support')
      const first = run(db)
      expect(first.outcome).toBe('adopted')
      if (first.outcome !== 'adopted') return
      expect(first.reason).toMatch(/^not worse than the corpus model: held-out corpus/)
      // The held-out corrections are what the new model learnt: it gets them right.
      const heldOut = faults.filter((text) => isHeldOut({ text })).length
      expect(first.metrics.corrections.candidate).toMatchObject({ rows: heldOut, correct: heldOut })
      expect(activeModelId(db)).toBe(first.modelId)

      expect(run(db)).toMatchObject({ outcome: 'nothing_new' })
      corrected(db, ZENTRIX_FAULTS[15], 'other', 'support')
      const second = run(db)
      expect(second).toMatchObject({ outcome: 'adopted' })
      expect(second.outcome !== 'nothing_new' && second.reason).toMatch(
        new RegExp(`^not worse than the running model \\(#${first.modelId}\\)`),
      )

      expect(rollbackModel(db, 'Paula', Date.now())).toEqual({
        outcome: 'rolled_back',
        from: second.outcome === 'adopted' ? second.modelId : -1,
        to: first.modelId,
      })
      expect(activeModelId(db)).toBe(first.modelId)
      expect(rollbackModel(db, 'Paula', Date.now())).toMatchObject({ to: null })
      expect(activeModelId(db)).toBe(0)
      expect(rollbackModel(db, 'Paula', Date.now())).toEqual({ outcome: 'nothing_to_roll_back' })
      expect(listModels(db).map((m) => m.status)).toEqual(['retired', 'retired'])
    } finally {
      close()
    }
  }, 90_000)
})
