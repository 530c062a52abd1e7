import { afterEach, describe, expect, it } from 'vitest'
import { decidedMessage } from '../../test/helpers/decided.js'
import { ownModelCache, tempDir, testHub } from '../../test/helpers/hub.js'
import { editedRules } from '../../test/helpers/rules.js'
import { waitFor } from '../../test/helpers/wait.js'
import { ZENTRIX_FAULTS } from '../../test/helpers/zentrix.js'
import { recordCorrection } from './corrections.js'
import { activeModelId, listModels } from './model-store.js'

// The opt-in scheduled retrain: the hub starts a retrain in a child process of its own when
// the period has passed and enough corrections came in, and takes the adopted model up.

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
    const correct = async (text: string) => {
      const { decisionId } = await decidedMessage(hub.sql, text, { intent: 'other' })
      await recordCorrection(hub.sql, {
        decisionId,
        source: 'console',
        actor: 'Paula',
        fields: { intent: 'support' },
        at: Date.now(),
      })
    }
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
