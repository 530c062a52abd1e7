import { describe, expect, it } from 'vitest'
import { fold } from '../kit/fold.js'
import { forgetWordMemos, normalizeText, spanishStems, wordMemo } from './normalize-text.js'

describe('normalizeText', () => {
  it.each([
    ['lower case and accents folded', 'Cotización ÁÉÍÓÚ Ñandú', 'cotizacion aeiou nandu'],
    [
      'repeated letters collapsed, pairs kept',
      'Holaaaa!!! nooo, llamar al carro',
      'hola | no | llamar al carro',
    ],
    [
      'WhatsApp shorthand expanded',
      'xq no me responden? porfa q alguien me ayude tb',
      'porque no me responden | por favor que alguien me ayude tambien',
    ],
    ['English contractions', "I don't want to sue, I'm fine", 'i do not want to sue | i am fine'],
    ['clause breaks kept', 'Hola. Quiero algo; gracias', 'hola | quiero algo | gracias'],
    [
      "words that are Object.prototype's keys are words, not shorthand",
      'The constructor called; hasOwnProperty toString',
      'the constructor called | hasownproperty tostring',
    ],
  ])('%s', (_name, input, folded) => {
    expect(normalizeText(input).folded).toBe(folded)
  })

  it('stems each word in Spanish and English', () => {
    const [token] = normalizeText('demandarlos').tokens
    expect(token).toMatchObject({ word: 'demandarlos', en: expect.any(String) })
    expect(token!.es).toContain('demand')
  })

  it('finds the same Spanish stem with and without the accent', () => {
    expect(spanishStems('cotizacion')).toEqual(
      expect.arrayContaining([...spanishStems(fold('cotización'))]),
    )
    expect(spanishStems('demandare')).toContain('demand')
  })
})

describe('wordMemo', () => {
  it('computes a fact once per word and owner, and again for a new owner', () => {
    const calls: string[] = []
    const length = wordMemo((token, owner: { bonus: number }) => {
      calls.push(token.word)
      return token.word.length + owner.bonus
    })
    const first = { bonus: 0 }
    const second = { bonus: 100 }
    const tokens = normalizeText('memorandum memorandum, otro memorandum').tokens
    expect(tokens.map((t) => length(t, first))).toEqual([10, 10, 4, 10])
    expect(calls).toEqual(['memorandum', 'otro'])
    expect(length(normalizeText('memorandum').tokens[0]!, first)).toBe(10)
    expect(calls).toHaveLength(2)
    // A reloaded rulebook or model is a new owner: its facts are its own.
    expect(length(tokens[0]!, second)).toBe(110)
    expect(length(tokens[0]!, first)).toBe(10)
    expect(calls).toEqual(['memorandum', 'otro', 'memorandum', 'memorandum'])
  })

  it('lets go of every owner when a new one is built', () => {
    const calls: string[] = []
    const memo = wordMemo((token, _owner: object) => calls.push(token.word))
    const owner = {}
    const [token] = normalizeText('reembolso').tokens
    memo(token!, owner)
    memo(token!, owner)
    forgetWordMemos()
    expect(token!.lexeme.memo.includes(owner)).toBe(false)
    memo(token!, owner)
    expect(calls).toEqual(['reembolso', 'reembolso'])
  })

  it('keeps nothing for numbers, which are nearly all new', () => {
    const calls: string[] = []
    const memo = wordMemo((token, _owner: object) => calls.push(token.word))
    const owner = {}
    for (const token of normalizeText('pedido 123456 y 123456').tokens) memo(token, owner)
    expect(calls).toEqual(['pedido', '123456', 'y', '123456'])
  })
})
