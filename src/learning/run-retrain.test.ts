import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decidedMessage } from '../../test/helpers/decided.js'
import { ownModelCache, RULES_DIR, tempDir, testHub } from '../../test/helpers/hub.js'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { ROOT } from '../../test/helpers/process.js'
import { editedRules } from '../../test/helpers/rules.js'
import { describeWithService } from '../../test/helpers/services.js'
import { waitFor } from '../../test/helpers/wait.js'
import { ZENTRIX_FAULTS } from '../../test/helpers/zentrix.js'
import { databaseFrom } from '../config.js'
import { silentLogger } from '../kit/logger.js'
import { openStore } from '../store/open-store.js'
import type { Sql } from '../store/sql.js'
import { recordCorrection } from './corrections.js'
import { activeModelId, listModels } from './model-store.js'
import { retrainer } from './run-retrain.js'

// The opt-in scheduled retrain: the hub starts a retrain in a child process of its own when
// the period has passed and enough corrections came in, and takes the adopted model up.

/** A message decided `other` that a person corrected to `support`. */
async function corrected(sql: Sql, text: string): Promise<void> {
  const { decisionId } = await decidedMessage(sql, text, { intent: 'other' })
  await recordCorrection(sql, {
    decisionId,
    source: 'console',
    actor: 'Paula',
    fields: { intent: 'support' },
    at: Date.now(),
  })
}

describe('scheduled retrain', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('retrains once enough corrections came in, and the hub uses the new model', async () => {
    const rules = editedRules({
      'settings.yaml': (text) =>
        text.replace('learning: {}', 'learning:\n  retrain: { every: 1s, min_corrections: 8 }'),
    })
    cleanups.push(rules.cleanup)
    const temp = tempDir()
    cleanups.push(temp.cleanup)
    const { hub, close } = testHub(
      { RULES_DIR: rules.dir, MODEL_CACHE_DIR: ownModelCache(temp.dir) },
      { dir: temp.dir },
    )
    cleanups.push(close)
    await hub.classifierReady
    expect(hub.classifier()?.name).not.toMatch(/model #/)
    const correct = (text: string) => corrected(hub.sql, text)
    const texts = ZENTRIX_FAULTS.slice(0, 8)
    // Seven are not enough: no training starts.
    for (const text of texts.slice(0, 7)) await correct(text)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(await listModels(hub.sql)).toEqual([])

    await correct(texts[7]!)
    await waitFor(async () => (await activeModelId(hub.sql)) > 0, {
      timeoutMs: 60_000,
      what: 'a scheduled retrain',
    })
    expect((await listModels(hub.sql))[0]).toMatchObject({
      by: 'schedule',
      status: 'active',
      corrections: 8,
    })
    await waitFor(() => /model #1/.test(hub.classifier()?.name ?? ''), {
      timeoutMs: 15_000,
      what: 'the hub to take the model up',
    })
  }, 90_000)
})

describeWithService('postgres', 'retraining on PostgreSQL', () => {
  const postgres = postgresForSuite()

  it('trains in a child process on the shared database, one instance at a time', async () => {
    const url = postgres.database()
    const store = await openStore(databaseFrom(url), { poolSize: 2 })
    try {
      for (const text of ZENTRIX_FAULTS.slice(0, 8)) await corrected(store.sql, text)
      // Two instances press "Reentrenar" at once: one trains, the other is told one is running.
      const job = { database: url, corpusDir: join(ROOT, 'data/corpus'), rulesDir: RULES_DIR }
      const outcomes = await Promise.all([
        retrainer(job, silentLogger).run('hub-a'),
        retrainer(job, silentLogger).run('hub-b'),
      ])
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['adopted', 'busy'])
      expect(await activeModelId(store.sql)).toBeGreaterThan(0)
      expect((await listModels(store.sql))[0]).toMatchObject({ status: 'active', corrections: 8 })
    } finally {
      await store.close()
    }
  }, 120_000)
})
