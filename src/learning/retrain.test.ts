import { beforeAll, describe, expect, it } from 'vitest'
import { decidedMessage, type TestDb } from '../../test/helpers/decided.js'
import { RULES_DIR, tempDir } from '../../test/helpers/hub.js'
import { ZENTRIX_FAULTS } from '../../test/helpers/zentrix.js'
import { closeDatabase, openDatabase, sqlOf } from '../store/db.js'
import { isHeldOut, loadCorpus, splitCorpus } from '../triage/classifier/corpus.js'
import { loadRulebook, type Rulebook } from '../triage/rulebook/compile.js'
import { recordCorrection } from './corrections.js'
import { formatModels } from './format.js'
import { activeModelId, listModels, rollbackModel } from './model-store.js'
import { retrain } from './retrain.js'

const CORPUS = 'data/corpus'

/** A message decided `decided`, corrected by a person to `intent`. */
async function corrected(db: TestDb, text: string, decided: string, intent: string) {
  const { decisionId } = await decidedMessage(db, text, { intent: decided })
  const result = await recordCorrection(db, {
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
    const connection = openDatabase(`${temp.dir}/hub.db`)
    const db: TestDb = { ...sqlOf(connection), $client: connection.$client }
    return {
      db,
      close: () => {
        closeDatabase(connection)
        temp.cleanup()
      },
    }
  }
  const run = (db: TestDb) =>
    retrain(db, { corpusDir: CORPUS, rulebook, by: 'test', now: () => Date.now() })

  it('refuses a model that is worse on the held-out corpus, says why, and keeps the running one', async () => {
    const { db, close } = fresh()
    try {
      // Careless corrections: a hundred ordinary messages of every kind marked "suggestion".
      const train = splitCorpus(loadCorpus(CORPUS).rows).train.filter(
        (r) => r.lang === 'es' && r.intent !== 'suggestion',
      )
      for (const row of train.slice(0, 100)) await corrected(db, row.text, row.intent, 'suggestion')
      const result = await run(db)
      expect(result.outcome).toBe('refused')
      if (result.outcome !== 'refused') return
      expect(result.reason).toMatch(
        /^worse than the corpus model: held-out corpus \d+\/\d+ \([\d.]+ %\) right against \d+\/\d+/,
      )
      const { candidate, reference } = result.metrics.corpus
      expect(candidate.correct).toBeLessThan(reference.correct - 2)
      expect(await activeModelId(db)).toBe(0)
      const [row] = await listModels(db)
      expect(row).toMatchObject({ id: result.modelId, status: 'refused', kept: false })
      expect(formatModels(await listModels(db))).toContain(result.reason)
    } finally {
      close()
    }
  }, 60_000)

  it('adopts a model that learnt something and lost nothing; a rollback returns to the one before', async () => {
    const { db, close } = fresh()
    try {
      expect(await run(db)).toEqual({
        outcome: 'nothing_new',
        reason: 'no corrections of an intent or signals to learn from yet',
      })
      const faults = ZENTRIX_FAULTS.slice(0, 14)
      for (const text of faults) await corrected(db, text, 'other', 'support')
      const first = await run(db)
      expect(first.outcome).toBe('adopted')
      if (first.outcome !== 'adopted') return
      expect(first.reason).toMatch(/^not worse than the corpus model: held-out corpus/)
      // The held-out corrections are what the new model learnt: it gets them right.
      const heldOut = faults.filter((text) => isHeldOut({ text })).length
      expect(first.metrics.corrections.candidate).toMatchObject({ rows: heldOut, correct: heldOut })
      expect(await activeModelId(db)).toBe(first.modelId)

      expect(await run(db)).toMatchObject({ outcome: 'nothing_new' })
      await corrected(db, ZENTRIX_FAULTS[15], 'other', 'support')
      const second = await run(db)
      expect(second).toMatchObject({ outcome: 'adopted' })
      expect(second.outcome !== 'nothing_new' && second.reason).toMatch(
        new RegExp(`^not worse than the running model \\(#${first.modelId}\\)`),
      )

      expect(await rollbackModel(db, 'Paula', Date.now())).toEqual({
        outcome: 'rolled_back',
        from: second.outcome === 'adopted' ? second.modelId : -1,
        to: first.modelId,
      })
      expect(await activeModelId(db)).toBe(first.modelId)
      expect(await rollbackModel(db, 'Paula', Date.now())).toMatchObject({ to: null })
      expect(await activeModelId(db)).toBe(0)
      expect(await rollbackModel(db, 'Paula', Date.now())).toEqual({
        outcome: 'nothing_to_roll_back',
      })
      expect((await listModels(db)).map((m) => m.status)).toEqual(['retired', 'retired'])
    } finally {
      close()
    }
  }, 90_000)
})
