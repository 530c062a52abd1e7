import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stripReply } from './strip-reply.js'

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/email')

type Case = {
  suite: 'github' | 'crisp'
  test: string
  fixture: string
  equals?: string
  matches?: string[]
  excludes?: string[]
  signature?: string
  whole?: boolean
  maxMs?: number
}

const { cases } = JSON.parse(readFileSync(join(FIXTURES, 'reply-cases.json'), 'utf8')) as {
  cases: Case[]
}

/** Why the case fails, or null when it passes. */
function checkCase(c: Case): string | null {
  const body = readFileSync(join(FIXTURES, c.fixture), 'utf8')
  const started = performance.now()
  const result = stripReply(body)
  const ms = performance.now() - started
  if (c.maxMs !== undefined && ms > c.maxMs) return `took ${ms.toFixed(0)} ms`
  const reply = result.reply
  if (c.equals !== undefined && reply.trim() !== c.equals.trim())
    return `reply is ${JSON.stringify(reply.slice(0, 120))}`
  if (
    c.whole &&
    reply.trim() !==
      body
        .replace(/\r\n?/g, '\n')
        .replace(/[ \t]+$/gm, '')
        .trim()
  )
    return 'stripped a body that has no quote'
  for (const pattern of c.matches ?? [])
    if (!new RegExp(pattern, 'u').test(reply)) return `reply lacks /${pattern}/`
  for (const pattern of c.excludes ?? [])
    if (new RegExp(pattern, 'mu').test(reply)) return `reply keeps /${pattern}/`
  if (c.signature !== undefined && !new RegExp(c.signature, 'u').test(result.signature))
    return `signature is ${JSON.stringify(result.signature.slice(0, 60))}`
  return null
}

describe('stripReply against the peer suites', () => {
  const results = cases.map((c) => ({ c, failure: checkCase(c) }))
  const passed = (suite: string) =>
    results.filter((r) => r.c.suite === suite && r.failure === null).length
  const total = (suite: string) => results.filter((r) => r.c.suite === suite).length

  // The titles carry the figures: `npx vitest run --reporter=verbose adapters/email` prints them.
  it(`passes ${passed('github')}/${total('github')} github/email_reply_parser cases`, () => {
    // Figures reported in the README; a drop is a regression.
    expect(passed('github')).toBeGreaterThanOrEqual(20)
    expect(total('github')).toBe(22)
  })

  it(`passes ${passed('crisp')}/${total('crisp')} crisp-oss/email-reply-parser cases`, () => {
    expect(passed('crisp')).toBeGreaterThanOrEqual(73)
    expect(total('crisp')).toBe(73)
  })

  it('handles the pathological and long-quote bodies in well under a second', () => {
    for (const name of ['test_pathological_emails', 'test_long_quote_processing_completes']) {
      const r = results.find((x) => x.c.test === name)
      expect(r?.failure).toBeNull()
    }
  })
})

describe('stripReply in Spanish', () => {
  it.each([
    [
      'Gmail',
      'Gracias, me sirve el jueves.\n\nEl jue, 19 nov 2026 a las 10:00, Ana <ana@x.cl> escribió:\n> ¿Le acomoda el jueves?',
      'Gracias, me sirve el jueves.',
    ],
    [
      'a reply that itself starts with "El"',
      'El producto llegó roto.\n\nEl mié, 18 nov 2026 a las 12:00, Soporte <s@x.cl> escribió:\n> Hola',
      'El producto llegó roto.',
    ],
    [
      'Gmail header wrapped over two lines',
      'Perfecto.\n\nEl jue, 19 nov 2026 a las 10:00, Soporte Centralita <\nsoporte@centralita.cl> escribió:\n> Hola',
      'Perfecto.',
    ],
    [
      'Outlook',
      'Adjunto la boleta.\n\n-----Mensaje original-----\nDe: Soporte\nEnviado el: jueves\nPara: Ana\nAsunto: Boleta\n\nHola Ana',
      'Adjunto la boleta.',
    ],
    [
      'Outlook header block without separator',
      'Sigo esperando.\n\nDe: Soporte <soporte@x.cl>\nEnviado: jueves, 19 de noviembre de 2026 10:00\nPara: Ana <ana@x.cl>\nAsunto: RE: Pedido\n\nHola Ana, ya lo despachamos.',
      'Sigo esperando.',
    ],
    [
      'iPhone footer',
      'Me cobraron dos veces.\n\nEnviado desde mi iPhone',
      'Me cobraron dos veces.',
    ],
    ['Android footer', 'Los voy a demandar\n\nEnviado desde mi Android', 'Los voy a demandar'],
    ['Outlook mobile footer', 'Ok gracias\n\nObtener Outlook para iOS', 'Ok gracias'],
    [
      'signature delimiter',
      'Necesito la factura.\n\n-- \nAna Pérez\nGerente de compras',
      'Necesito la factura.',
    ],
    [
      'forward',
      'Mira esto.\n\n---------- Forwarded message ---------\nDe: X\nFecha: hoy',
      'Mira esto.',
    ],
  ])('%s', (_name, body, reply) => {
    expect(stripReply(body).reply).toBe(reply)
  })

  it('keeps everything when nothing is quoted', () => {
    const body = 'Hola,\n\nEl lunes pasado escribí a la tienda y nadie respondió.\nSaludos'
    expect(stripReply(body).reply).toBe(body)
  })
})
