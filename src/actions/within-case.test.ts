import { beforeAll, describe, expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { silentLogger } from '../kit/logger.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { loadRulebook, type Rulebook } from '../triage/rulebook/compile.js'
import { type IntentClassifier, triage } from '../triage/triage.js'
import { type OpenCase, routeWithinCase } from './within-case.js'

let rulebook: Rulebook
let classifier: IntentClassifier
beforeAll(() => {
  rulebook = loadRulebook(RULES_DIR)
  classifier = loadClassifier({ corpusDir: 'data/corpus', cacheDir: 'data/model' }, silentLogger)
})
const decide = (text: string) => triage({ text }, rulebook, classifier)
const legalCase: OpenCase = {
  number: 'TK-2026-000007',
  queue: 'legal',
  priority: 'critica',
  level: 'L3',
}
const complaintCase: OpenCase = {
  number: 'TK-2026-000008',
  queue: 'calidad',
  priority: 'media',
  level: 'L1',
}

describe('routeWithinCase', () => {
  it('leaves a conversation without an open case as decided', () => {
    const decision = decide('quiero comprar 3 sillas de escritorio')
    expect(routeWithinCase(decision, null)).toEqual({ decision, note: null })
  })

  it.each([
    ['quiero comprar 3 sillas de escritorio', legalCase],
    ['¿a qué hora abren el sábado?', legalCase],
    ['¿a qué hora abren el sábado?', complaintCase],
  ])('hands "%s" to the open case\'s queue, at its priority', (text, open) => {
    const decision = decide(text)
    const routed = routeWithinCase(decision, open)
    expect(routed.decision).toMatchObject({
      queue: open.queue,
      priority: open.priority,
      level: open.level,
      // What the message is does not change.
      intent: decision.intent,
      reply: decision.reply,
    })
    expect(routed.note).toBe(
      `part of open case ${open.number}: handed to its queue ${open.queue} at priority ${open.priority}`,
    )
  })

  it('lets a message more urgent than the case lead', () => {
    const decision = decide('Los voy a demandar si no me devuelven el dinero')
    expect(decision.priority).toBe('critica')
    const routed = routeWithinCase(decision, complaintCase)
    expect(routed).toEqual({ decision, note: null })
  })
})
