import { beforeEach, describe, expect, it } from 'vitest'
import { decidedMessage, type TestDb, tempDatabases } from '../../test/helpers/decided.js'

import {
  correctionLines,
  currentJudgement,
  learnedExamples,
  listCorrections,
  recordCorrection,
} from './corrections.js'
import {
  KEPT_MODELS,
  listModels,
  modelWeights,
  rollbackModel,
  storeAdopted,
} from './model-store.js'

describe('corrections', () => {
  const database = tempDatabases()
  let db: TestDb
  beforeEach(() => {
    db = database()
  })
  const correct = (decisionId: number, fields: Parameters<typeof recordCorrection>[1]['fields']) =>
    recordCorrection(db, { decisionId, source: 'console', actor: 'Paula', fields, at: 1000 })

  it('keeps only what the person changed, and nothing when nothing changed', async () => {
    const { decisionId, messageId } = await decidedMessage(db, 'me rayaron el auto', {
      intent: 'complaint',
      signals: ['property_damage'],
      level: 'L3',
      queue: 'reclamos',
    })
    // The form sent back as it was shown.
    expect(
      await correct(decisionId, {
        intent: 'complaint',
        signals: ['property_damage'],
        level: 'L3',
        queue: 'reclamos',
      }),
    ).toEqual({ outcome: 'unchanged' })
    expect(
      await correct(decisionId, {
        intent: 'complaint',
        signals: [],
        level: 'L2',
        queue: 'reclamos',
      }),
    ).toMatchObject({ outcome: 'recorded', changed: { signals: [], level: 'L2' } })
    expect(await currentJudgement(db, decisionId)).toEqual({
      intent: 'complaint',
      signals: [],
      level: 'L2',
      queue: 'reclamos',
    })
    // Against the decision as corrected: setting L2 again is no change.
    expect(await correct(decisionId, { level: 'L2' })).toEqual({ outcome: 'unchanged' })
    expect(await correct(999, { level: 'L2' })).toEqual({ outcome: 'unknown_decision' })
    expect(await listCorrections(db)).toMatchObject([
      {
        messageId,
        decisionId,
        actor: 'Paula',
        source: 'console',
        text: 'me rayaron el auto',
        decided: { intent: 'complaint', signals: ['property_damage'], level: 'L3' },
        corrected: { signals: [], level: 'L2' },
      },
    ])
  })

  it('learns from corrections of an intent or signals, the latest word on each message', async () => {
    const a = await decidedMessage(db, 'el zentrix parpadea', { intent: 'other' })
    const b = await decidedMessage(db, 'quiero hablar con alguien', { intent: 'other', queue: 'a' })
    await correct(a.decisionId, { intent: 'complaint' })
    await correct(a.decisionId, { intent: 'support' })
    await correct(b.decisionId, { queue: 'general' })
    expect(await learnedExamples(db)).toMatchObject([
      { text: 'el zentrix parpadea', lang: 'es', intent: 'support', signals: [] },
    ])
    const lines: string[] = []
    for await (const line of correctionLines(db)) lines.push(line)
    expect(lines.map((l) => JSON.parse(l).corrected)).toEqual([
      { intent: 'complaint' },
      { intent: 'support' },
      { queue: 'general' },
    ])
  })

  it('keeps the weights of the newest models only; a model without them cannot come back', async () => {
    const model = (by: string) => ({
      reason: 'r',
      metrics: {},
      corpusHash: 'h',
      modelVersion: 'v',
      throughCorrection: 0,
      corrections: 0,
      by,
      at: 1,
    })
    const ids: number[] = []
    for (let i = 0; i < KEPT_MODELS + 1; i++)
      ids.push(await storeAdopted(db, model(`m${i}`), (id) => Buffer.from(`weights ${id}`)))
    expect(await modelWeights(db, ids[0]!)).toBeNull()
    expect((await modelWeights(db, ids.at(-1)!))?.toString()).toBe(`weights ${ids.at(-1)}`)
    expect((await listModels(db)).map((m) => m.status)).toEqual([
      'active',
      ...Array(KEPT_MODELS - 1).fill('previous'),
      'retired',
    ])
    for (let i = 0; i < KEPT_MODELS - 1; i++) await rollbackModel(db, 'x', 2)
    expect(await rollbackModel(db, 'x', 3)).toMatchObject({ outcome: 'rolled_back', to: null })
  })
})
