import { describe, expect, it } from 'vitest'
import { compileTerms, matchTerms, scoreHits } from './match-terms.js'
import { normalizeText } from './normalize-text.js'
import type { MatchTarget } from './rulebook/schema.js'

const empty = { keywords: [], words: [], phrases: [], patterns: [], together: [], exceptions: [] }
const target = (
  es: Partial<MatchTarget['es']>,
  en: Partial<MatchTarget['en']> = {},
  negation = true,
): MatchTarget => ({
  negation,
  es: { ...empty, ...es },
  en: { ...empty, ...en },
})
const match = (index: ReturnType<typeof compileTerms>, text: string) =>
  matchTerms(index, normalizeText(text))
const fired = (index: ReturnType<typeof compileTerms>, text: string) =>
  match(index, text)
    .filter((h) => !h.vetoed)
    .map((h) => h.term)

describe('matchTerms', () => {
  it('matches keywords on their stems, in any form', () => {
    const index = compileTerms({}, { legal_threat: target({ keywords: ['demandar'] }) })
    for (const text of ['los demando', 'voy a demandarlos', 'demandaré', 'DEMANDARE']) {
      expect(fired(index, text)).toEqual(['demandar'])
    }
  })

  it('tolerates one typo in words of five letters or more, and says so', () => {
    const index = compileTerms({}, { legal_threat: target({ keywords: ['demandar'] }) })
    const [hit] = match(index, 'los voy a demnadar')
    expect(hit).toMatchObject({ term: 'demandar', fuzzy: true })
    expect(fired(compileTerms({}, { x: target({ keywords: ['pago'] }) }), 'pagi')).toEqual([])
  })

  it('matches `words` only in the exact form written', () => {
    const index = compileTerms({}, { property_damage: target({ words: ['rayaron'] }) })
    expect(fired(index, 'me rayaron el auto')).toEqual(['rayaron'])
    expect(fired(index, 'quedaron rayas en el vidrio')).toEqual([])
    // No typo tolerance: one letter is what an exact form tells apart.
    const injury = compileTerms({}, { injury: target({ words: ['me queme'] }) })
    expect(fired(injury, 'me quemé con el agua')).toEqual(['me queme'])
    expect(fired(injury, 'me quedé esperando una hora')).toEqual([])
  })

  it('matches phrases in order, allowing one word between', () => {
    const index = compileTerms({}, { legal_threat: target({ phrases: ['acciones legales'] }) })
    expect(fired(index, 'tomaré acciones legales')).toEqual(['acciones legales'])
    expect(fired(index, 'tomaré acciones muy legales')).toEqual(['acciones legales'])
    expect(fired(index, 'legales acciones')).toEqual([])
  })

  it('matches `together` groups only within one clause', () => {
    const index = compileTerms(
      {},
      {
        property_damage: target({
          together: [
            {
              all: [
                ['rayado', 'roto'],
                ['auto', 'espejo'],
              ],
              weight: 2,
            },
          ],
        }),
      },
    )
    expect(fired(index, 'me entregaron el espejo roto')).toEqual(['rayado + auto'])
    expect(fired(index, 'el pedido llegó roto. Lo traje en mi auto')).toEqual([])
  })

  it('finds each `together` rule in the first clause that completes it, in rule order', () => {
    const index = compileTerms(
      {},
      {
        property_damage: target(
          {
            together: [
              { all: [['rayado'], ['auto']], weight: 2 },
              { all: [['roto'], ['espejo']], weight: 2 },
            ],
          },
          { together: [{ all: [['scratched'], ['car']], weight: 2 }] },
        ),
      },
    )
    const hits = match(index, 'el espejo roto. El auto rayado y el auto rayado otra vez')
    expect(hits.map((h) => [h.term, h.matched, h.clause, h.position])).toEqual([
      ['rayado + auto', 'rayado … auto', 1, 4],
      ['roto + espejo', 'roto … espejo', 0, 1],
    ])
    expect(
      matchTerms(index, normalizeText('the car scratched, el auto rayado'), ['en']).map(
        (h) => h.term,
      ),
    ).toEqual(['scratched + car'])
  })

  it('takes a Spanish participle in a `together` list in either gender and number', () => {
    const index = compileTerms(
      {},
      {
        property_damage: target(
          {
            together: [
              {
                all: [
                  ['hundido', 'rompio'],
                  ['puerta', 'espejos'],
                ],
                weight: 2,
              },
            ],
          },
          { together: [{ all: [['dented'], ['door']], weight: 2 }] },
        ),
      },
    )
    for (const text of [
      'la puerta quedó hundida',
      'la puerta hundido',
      'los espejos hundidos',
      'espejos hundidas',
      'el golpe rompió la puerta',
    ]) {
      expect(fired(index, text), text).toEqual(['hundido + puerta'])
    }
    // Other verb forms are other words; English lists are taken as written.
    expect(fired(index, 'rompía la puerta')).toEqual([])
    expect(fired(index, 'the door dented')).toEqual(['dented + door'])
    expect(fired(index, 'the doors dented')).toEqual([])
  })

  it('drops hits after a negation in the same clause, not across clauses, not after "si no"', () => {
    const index = compileTerms({}, { legal_threat: target({ keywords: ['demandar'] }) })
    expect(match(index, 'no quiero demandar a nadie')[0]?.vetoed).toBe('negated by "no"')
    expect(match(index, 'no, los voy a demandar')[0]?.vetoed).toBeUndefined()
    expect(match(index, 'si no me pagan los voy a demandar')[0]?.vetoed).toBeUndefined()
  })

  it('keeps hits whose negation is itself denied ("no descarto", "won\'t hesitate")', () => {
    const index = compileTerms({}, { legal_threat: target({ keywords: ['demandar', 'sue'] }) })
    for (const text of [
      'no descarto demandar',
      'no dudaremos en demandar',
      'no vacilaré en demandar',
      "I won't hesitate to sue",
      'not ruling out that we sue',
    ]) {
      expect(match(index, text)[0]?.vetoed, text).toBeUndefined()
    }
    expect(match(index, 'no pienso demandar')[0]?.vetoed).toBe('negated by "no"')
  })

  it("reaches past object pronouns for a signal's verb, not for an intent's topic", () => {
    const index = compileTerms(
      { payment: target({ keywords: ['pago'] }) },
      { legal_threat: target({ keywords: ['demandar'] }) },
    )
    expect(match(index, 'no los voy a demandar')[0]?.vetoed).toBe('negated by "no"')
    expect(match(index, 'no se lo voy a demandar')[0]?.vetoed).toBe('negated by "no"')
    // The pronoun belongs to another verb: the threat stands.
    expect(match(index, 'no me respondieron y voy a demandar')[0]?.vetoed).toBeUndefined()
    // "no me reconoce el pago" is still about a payment.
    expect(match(index, 'no me reconoce el pago')[0]?.vetoed).toBeUndefined()
  })

  it('drops hits when an exception appears in the same clause', () => {
    const index = compileTerms(
      {},
      { legal_threat: target({ keywords: ['abogado'], exceptions: ['me recomendo'] }) },
    )
    expect(match(index, 'mi abogado me recomendó esta tienda')[0]?.vetoed).toBe(
      'exception "me recomendo"',
    )
    expect(fired(index, 'mi abogado se comunicará con ustedes')).toEqual(['abogado'])
  })

  it('runs patterns on the folded text', () => {
    const index = compileTerms(
      {},
      { media_threat: target({ patterns: ['(voy|vamos) a publicar'] }) },
    )
    expect(fired(index, 'Voy a PUBLICAR todo')).toEqual(['(voy|vamos) a publicar'])
  })

  it('does not match one language’s function words against the other’s terms', () => {
    const index = compileTerms({}, { legal_threat: target({}, { words: ['su'] }) })
    expect(fired(index, 'su pedido está listo')).toEqual([])
  })

  it('limits terms to the languages asked for', () => {
    const index = compileTerms({}, { media_threat: target({ keywords: ['periodista'] }) })
    const text = normalizeText('please send the quote for the validity period')
    expect(matchTerms(index, text, ['es', 'en']).map((h) => h.term)).toEqual(['periodista'])
    expect(matchTerms(index, text, ['en'])).toEqual([])
  })
})

describe('scoreHits', () => {
  it('counts each word once per target and each term once', () => {
    const index = compileTerms(
      { payment: target({ keywords: ['cobro', 'cobraron', 'cobrado'], phrases: ['me cobraron'] }) },
      {},
    )
    const hits = match(index, 'me cobraron, me cobraron de nuevo')
    expect(scoreHits(hits, 'intent').get('payment')).toBe(1 + 2)
  })
})

describe('matchTerms across rulebooks', () => {
  it('matches each word against the rulebook it is given, not one it saw before', () => {
    const before = compileTerms(
      { payment: target({ keywords: ['reembolso'], phrases: ['me cobraron dos veces'] }) },
      {},
    )
    const after = compileTerms(
      { complaint: target({ keywords: ['cobro'], exceptions: ['dos veces'] }) },
      {},
    )
    const text = 'quiero un reembolso, me cobraron dos veces'
    for (let round = 0; round < 2; round++) {
      expect(fired(before, text)).toEqual(['reembolso', 'me cobraron dos veces'])
      expect(match(after, text)).toMatchObject([
        { term: 'cobro', matched: 'cobraron', vetoed: 'exception "dos veces"' },
      ])
    }
  })
})
