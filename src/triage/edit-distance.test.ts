import { describe, expect, it } from 'vitest'
import { deletions, withinOneEdit } from './edit-distance.js'

describe('withinOneEdit', () => {
  it.each([
    ['demandar', 'demandar', true],
    ['demandar', 'demandat', true], // substitution
    ['demandar', 'demnadar', true], // swap
    ['demandar', 'demanda', true], // deletion
    ['demandar', 'demandare', true], // insertion
    ['demandar', 'demnadra', false],
    ['abogado', 'abgoadoo', false],
    ['precio', 'precisa', false],
  ])('%s ~ %s → %s', (a, b, expected) => {
    expect(withinOneEdit(a, b)).toBe(expected)
    expect(withinOneEdit(b, a)).toBe(expected)
  })
})

describe('deletions', () => {
  it('lists each one-letter deletion', () => {
    expect(deletions('abc')).toEqual(['bc', 'ac', 'ab'])
  })
})
