import { describe, expect, it } from 'vitest'
import { extractEntities, largestAmount, parseNumber } from './entities.js'

describe('money amounts', () => {
  it.each([
    ['me cobraron $800 de más', 800],
    ['son 800 USD', 800],
    ['US$ 650 por favor', 650],
    ['me cobraron 1.200 de más', 1200],
    ['the refund of 1,200.50 never came', 1200.5],
    ['pagué $1.200.000 y nada', 1_200_000],
    ['cobraron 12,50 euros', 12.5],
    ['me deben 800 mil pesos', 800_000],
    ['me devolvieron 500 lucas', 500_000],
    ['I want my 5k back, the charge was wrong', 5000],
    ['exijo la devolución de 1.200,50', 1200.5],
  ])('%s → %d', (text, amount) => {
    expect(largestAmount(extractEntities(text))).toBe(amount)
  })

  it.each([
    'mi pedido 12345 no llega',
    'a las 10:00 hrs',
    'el 50% de descuento',
    'quiero 3 unidades',
    'mi teléfono es 987654321',
  ])('no money in "%s"', (text) => {
    expect(largestAmount(extractEntities(text))).toBeNull()
  })

  it('keeps the largest of several amounts', () => {
    expect(largestAmount(extractEntities('pagué $300 y luego $800, total $1.100'))).toBe(1100)
  })
})

describe('other entities', () => {
  it('finds emails, phones and references', () => {
    const e = extractEntities(
      'Soy Ana (ana@x.cl, +56 9 8765 4321), ticket TK-2026-000123 y pedido #4521',
    )
    expect(e.emails).toEqual(['ana@x.cl'])
    expect(e.phones).toEqual(['+56 9 8765 4321'])
    expect(e.references).toEqual(['TK-2026-000123', 'pedido #4521'])
  })
})

describe('parseNumber', () => {
  it.each([
    ['1.200', 1200],
    ['1,200', 1200],
    ['1.200,50', 1200.5],
    ['1,200.50', 1200.5],
    ['12,5', 12.5],
    ['800', 800],
  ])('%s → %d', (raw, value) => {
    expect(parseNumber(raw)).toBe(value)
  })
})
