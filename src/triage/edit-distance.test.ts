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

describe('withinOneEdit against the edit distance', () => {
  // Optimal string alignment distance, by the textbook table: the reference the fast
  // comparison must agree with on every pair of short words over a small alphabet.
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) =>
      Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    )
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1
        let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
          best = Math.min(best, d[i - 2]![j - 2]! + 1)
        d[i]![j] = best
      }
    }
    return d[a.length]![b.length]!
  }
  const words: string[] = ['']
  for (let length = 1; length <= 4; length++) {
    for (const word of words.filter((w) => w.length === length - 1)) {
      for (const letter of 'abc') words.push(word + letter)
    }
  }

  it('agrees on every pair of words of up to four letters from "abc"', () => {
    let disagreements = 0
    for (const a of words) {
      for (const b of words) if (withinOneEdit(a, b) !== distance(a, b) <= 1) disagreements++
    }
    expect(words.length).toBe(121)
    expect(disagreements).toBe(0)
  })
})
