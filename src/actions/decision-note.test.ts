import { beforeAll, describe, expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { silentLogger } from '../kit/logger.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { loadRulebook, type Rulebook } from '../triage/rulebook/compile.js'
import { type IntentClassifier, triage } from '../triage/triage.js'
import { decisionNote } from './decision-note.js'

let rulebook: Rulebook
let classifier: IntentClassifier
beforeAll(() => {
  rulebook = loadRulebook(RULES_DIR)
  classifier = loadClassifier({ corpusDir: 'data/corpus', cacheDir: 'data/model' }, silentLogger)
})
const noteFor = (text: string) => decisionNote(triage({ text }, rulebook, classifier))

describe('the decision note admins read', () => {
  it('names each matched phrase once, even when several rule terms found it', () => {
    const text = 'Me cobraron dos veces la misma compra, me cobraron dos veces!!'
    const decision = triage({ text }, rulebook, classifier)
    // The rulebook really does find the same words with several terms.
    const matched = decision.explanation.hits.filter((h) => !h.vetoed).map((h) => h.matched)
    expect(matched.length).toBeGreaterThan(new Set(matched).size)
    const rules = noteFor(text)
      .split('\n')
      .find((l) => l.startsWith('Reglas: '))!
    const shown = rules.slice('Reglas: '.length).split('; ')
    expect(shown).toContain('"cobraron" → pago')
    expect(shown.length).toBe(new Set(shown).size)
  })

  it('says what it set aside, once each: a negated threat', () => {
    const note = noteFor('no quiero demandar a nadie, solo que me devuelvan el dinero')
    const line = note.split('\n').find((l) => l.startsWith('Descartadas: '))
    expect(line).toMatch(/"demandar"/)
    const items = line!.slice('Descartadas: '.length).split('; ')
    expect(items.length).toBe(new Set(items).size)
    expect(note).not.toMatch(/amenaza legal/)
  })
})
