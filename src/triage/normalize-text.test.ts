import { describe, expect, it } from 'vitest'
import { fold, normalizeText, spanishStems } from './normalize-text.js'

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
