import { describe, expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { silentLogger } from '../kit/logger.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { type Decision, triage } from '../triage/triage.js'
import { type SettleInput, settle } from './settle.js'

const rulebook = loadRulebook(RULES_DIR)
const classifier = loadClassifier(
  { corpusDir: 'data/corpus', cacheDir: 'data/model' },
  silentLogger,
)
const decided = (text: string): Decision =>
  triage({ text, channel: 'whatsapp', context: { inHours: true } }, rulebook, classifier)

const base = (decision: Decision, over: Partial<SettleInput> = {}): SettleInput => ({
  decision,
  reply: decision.reply ? { ok: true } : null,
  openCase: null,
  answeredLately: () => false,
  defaultQueue: 'general',
  reachesQueue: () => true,
  ...over,
})

describe('settle: every message ends with an answer or a person', () => {
  it('keeps an automatic answer that can go out, and says so', () => {
    const { decision, outcome } = settle(base(decided('¿A qué hora abren?')))
    expect(outcome.branch).toBe('answer')
    expect(decision.reply).toMatchObject({ kind: 'faq', faqId: 'horarios' })
    expect(decision.queue).toBeNull()
  })

  it('hands an answer that cannot go out to the default queue, with a ticket and the reason', () => {
    const faq = decided('¿A qué hora abren?')
    const settled = settle(base(faq, { reply: { ok: false, reason: 'the window is closed' } }))
    expect(settled.outcome).toEqual({
      branch: 'person',
      reason: expect.stringMatching(/cannot go out \(the window is closed\).*queue general/),
    })
    expect(settled.decision).toMatchObject({
      reply: null,
      queue: 'general',
      ticket: 'consulta',
      needsHuman: true,
    })
    expect(settled.notes).toEqual(['no automatic reply: the window is closed'])
    // The decision it started from is not changed.
    expect(faq.reply).not.toBeNull()
    expect(faq.queue).toBeNull()
  })

  it('gives a vetoed answer to a person: the veto is the reason', () => {
    const charged = decided('¿hasta qué hora atienden? me cobraron de más ayer')
    expect(charged).toMatchObject({ intent: 'faq', reply: null, queue: null })
    const { decision, outcome } = settle(base(charged))
    expect(outcome.branch).toBe('person')
    expect(outcome.reason).toMatch(/set aside \(rules found signs of payment\)/)
    expect(decision).toMatchObject({ queue: 'general', ticket: 'consulta' })
  })

  it('a message the rules give to a queue ends with that person, answered or not', () => {
    const sale = decided('quiero comprar 3 sillas de escritorio, tienen stock?')
    const { decision, outcome } = settle(base(sale))
    expect(outcome.branch).toBe('person')
    expect(decision).toMatchObject({ queue: 'ventas', ticket: null, reply: { kind: 'ack' } })
  })

  it('a queue told nowhere outside the hub gets a ticket, so the console lists it', () => {
    const sale = decided('quiero comprar 3 sillas de escritorio, tienen stock?')
    const { decision, outcome } = settle(base(sale, { reachesQueue: () => false }))
    expect(outcome.branch).toBe('person')
    expect(outcome.reason).toMatch(/console's queue/)
    expect(decision).toMatchObject({ queue: 'ventas', ticket: 'consulta' })
  })

  it('a closing after an answer closes the exchange; without one, a person reads it', () => {
    const thanks = decided('muchas gracias!!')
    expect(thanks.acts).toEqual(['closing'])
    const closed = settle(base(thanks, { answeredLately: () => true }))
    expect(closed.outcome.branch).toBe('closed')
    expect(closed.decision).toMatchObject({ queue: null, ticket: null, reply: null })
    const alone = settle(base(thanks, { answeredLately: () => false }))
    expect(alone.outcome.branch).toBe('person')
    expect(alone.decision).toMatchObject({ queue: 'general', ticket: 'consulta' })
  })

  it('a message in an open case stays with the case', () => {
    const thanks = decided('ok')
    const { decision, outcome } = settle(
      base(thanks, { openCase: { number: 'TK-2026-000007', queue: 'legal' } }),
    )
    expect(outcome).toEqual({
      branch: 'person',
      reason: 'handed to open case TK-2026-000007 (queue legal)',
    })
    expect(decision.ticket).toBeNull()
  })

  it('a greeting whose welcome cannot go again today goes to a person', () => {
    const hello = decided('hola')
    expect(hello.reply).toEqual({ kind: 'welcome' })
    const { decision, outcome } = settle(
      base(hello, {
        reply: { ok: false, reason: 'the welcome already went to this conversation today' },
      }),
    )
    expect(outcome.branch).toBe('person')
    expect(decision).toMatchObject({ queue: 'general', ticket: 'consulta', reply: null })
  })
})
