import { describe, expect, it } from 'vitest'
import { checkPassword, hashPassword, mayOwn, ownerOf, passwordProblem } from './people.js'

describe('console people', () => {
  it('hashes passwords with scrypt and a salt of their own, and checks them', async () => {
    const one = await hashPassword('caballo-bateria-42')
    const two = await hashPassword('caballo-bateria-42')
    expect(one).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/)
    expect(one).not.toBe(two)
    expect(await checkPassword('caballo-bateria-42', one)).toBe(true)
    expect(await checkPassword('caballo-bateria-43', one)).toBe(false)
    expect(await checkPassword('caballo-bateria-42', 'plain')).toBe(false)
  })

  it('asks for passwords long enough and bounded', () => {
    expect(passwordProblem('corta')).toBe('short')
    expect(passwordProblem('x'.repeat(201))).toBe('long')
    expect(passwordProblem('una clave larga')).toBeNull()
  })

  it('gives each level to its owner and those above: an agent does not take or close L3', () => {
    expect(ownerOf('L1')).toBe('agente')
    expect(ownerOf('L2')).toBe('supervisor')
    expect(ownerOf('L3')).toBe('gerencia')
    expect(ownerOf(null)).toBe('agente')
    expect(mayOwn('agente', 'L1')).toBe(true)
    expect(mayOwn('agente', 'L2')).toBe(false)
    expect(mayOwn('agente', 'L3')).toBe(false)
    expect(mayOwn('supervisor', 'L3')).toBe(false)
    expect(mayOwn('gerencia', 'L3')).toBe(true)
    expect(mayOwn('admin', 'L3')).toBe(true)
  })
})
