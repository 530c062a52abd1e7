import { describe, expect, it } from 'vitest'
import { firstName, humanDuration, renderTemplate } from './render-template.js'

describe('renderTemplate', () => {
  it('fills variables and keeps sections only when their variable has a value', () => {
    const template = 'Hola{{#name}} {{name}}{{/name}}, ticket {{ticket}}.'
    expect(renderTemplate(template, { name: 'Ana', ticket: 'TK-2026-000001' })).toBe(
      'Hola Ana, ticket TK-2026-000001.',
    )
    expect(renderTemplate(template, { name: null, ticket: 'TK-2026-000001' })).toBe(
      'Hola, ticket TK-2026-000001.',
    )
  })
})

describe('humanDuration', () => {
  it.each([
    [15 * 60_000, 'es', '15 minutos'],
    [60 * 60_000, 'es', '1 hora'],
    [4 * 3_600_000, 'en', '4 hours'],
    [48 * 3_600_000, 'es', '2 días'],
    [24 * 3_600_000, 'en', '24 hours'],
  ] as const)('%d ms in %s → %s', (ms, language, expected) => {
    expect(humanDuration(ms, language)).toBe(expected)
  })
})

describe('firstName', () => {
  it('skips generated visitor names and addresses', () => {
    expect(firstName('Ana María López')).toBe('Ana')
    expect(firstName('V1561719148780935')).toBeNull()
    expect(firstName('ana@example.com')).toBeNull()
    expect(firstName(null)).toBeNull()
  })
})
