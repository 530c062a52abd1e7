import { beforeEach, describe, expect, it } from 'vitest'
import { decidedMessage, tempDatabases } from '../../test/helpers/decided.js'
import type { Db } from '../store/db.js'
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
  let db: Db
  beforeEach(() => {
    db = database()
  })
  const correct = (decisionId: number, fields: Parameters<typeof recordCorrection>[1]['fields']) =>
    recordCorrection(db, { decisionId, source: 'console', actor: 'Paula', fields, at: 1000 })

  it('keeps only what the person changed, and nothing when nothing changed', () => {
    const { decisionId, messageId } = decidedMessage(db, 'me rayaron el auto', {
      intent: 'complaint',
      signals: ['property_damage'],
      level: 'L3',
      queue: 'reclamos',
    })
    // The form sent back as it was shown.
    expect(
      correct(decisionId, {
        intent: 'complaint',
        signals: ['property_damage'],
        level: 'L3',
        queue: 'reclamos',
      }),
    ).toEqual({ outcome: 'unchanged' })
    expect(
      correct(decisionId, { intent: 'complaint', signals: [], level: 'L2', queue: 'reclamos' }),
    ).toMatchObject({ outcome: 'recorded', changed: { signals: [], level: 'L2' } })
    expect(currentJudgement(db, decisionId)).toEqual({
      intent: 'complaint',
      signals: [],
      level: 'L2',
      queue: 'reclamos',
    })
    // Against the decision as corrected: setting L2 again is no change.
    expect(correct(decisionId, { level: 'L2' })).toEqual({ outcome: 'unchanged' })
    expect(correct(999, { level: 'L2' })).toEqual({ outcome: 'unknown_decision' })
    expect(listCorrections(db)).toMatchObject([
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

  it('learns from corrections of an intent or signals, the latest word on each message', () => {
    const a = decidedMessage(db, 'el zentrix parpadea', { intent: 'other' })
    const b = decidedMessage(db, 'quiero hablar con alguien', { intent: 'other', queue: 'a' })
    correct(a.decisionId, { intent: 'complaint' })
    correct(a.decisionId, { intent: 'support' })
    correct(b.decisionId, { queue: 'general' })
    expect(learnedExamples(db)).toMatchObject([
      { text: 'el zentrix parpadea', lang: 'es', intent: 'support', signals: [] },
    ])
    expect([...correctionLines(db)].map((l) => JSON.parse(l).corrected)).toEqual([
      { intent: 'complaint' },
      { intent: 'support' },
      { queue: 'general' },
    ])
  })

  it('keeps the weights of the newest models only; a model without them cannot come back', () => {
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
    const ids = Array.from({ length: KEPT_MODELS + 1 }, (_, i) =>
      storeAdopted(db, model(`m${i}`), (id) => Buffer.from(`weights ${id}`)),
    )
    expect(modelWeights(db, ids[0]!)).toBeNull()
    expect(modelWeights(db, ids.at(-1)!)?.toString()).toBe(`weights ${ids.at(-1)}`)
    expect(listModels(db).map((m) => m.status)).toEqual([
      'active',
      ...Array(KEPT_MODELS - 1).fill('previous'),
      'retired',
    ])
    for (let i = 0; i < KEPT_MODELS - 1; i++) rollbackModel(db, 'x', 2)
    expect(rollbackModel(db, 'x', 3)).toMatchObject({ outcome: 'rolled_back', to: null })
  })
})
