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

// Reply headers as mail clients write them in the languages a business in Chile or Spain
// receives, written for this project from each client's conventions (Gmail, Apple Mail,
// Thunderbird, Outlook desktop and web).
describe('stripReply in other languages', () => {
  it.each([
    [
      'Portuguese (Gmail)',
      'Ainda não recebi o pedido.\n\nEm qui., 19 de nov. de 2026 às 10:00, Soporte <soporte@x.cl> escreveu:\n> Olá, o pedido saiu ontem.',
    ],
    [
      'Catalan (Gmail)',
      'Ainda não recebi o pedido.\n\nA dj., 19 de nov. 2026 a les 10:00, Soporte <soporte@x.cl> va escriure:\n> Hola, la comanda va sortir ahir.',
    ],
    [
      'Catalan (Thunderbird)',
      'Ainda não recebi o pedido.\n\nEl 19/11/26 a les 10:00, Soporte va escriure:\n> Hola, la comanda va sortir ahir.',
    ],
    [
      'Catalan (Apple Mail)',
      'Ainda não recebi o pedido.\n\nSoporte <soporte@x.cl> ha escrit:\n> Hola, la comanda va sortir ahir.',
    ],
    [
      'French (Gmail)',
      'Ainda não recebi o pedido.\n\nLe jeu. 19 nov. 2026 à 10:00, Soporte <soporte@x.cl> a écrit :\n> Bonjour, la commande est partie hier.',
    ],
    [
      'Italian (Gmail)',
      'Ainda não recebi o pedido.\n\nIl giorno gio 19 nov 2026 alle ore 10:00 Soporte <soporte@x.cl> ha scritto:\n> Ciao, l’ordine è partito ieri.',
    ],
    [
      'German (Gmail)',
      'Ainda não recebi o pedido.\n\nAm Do., 19. Nov. 2026 um 10:00 Uhr schrieb Soporte <soporte@x.cl>:\n> Hallo, die Bestellung ist gestern rausgegangen.',
    ],
    [
      'Spanish (Outlook)',
      'Ainda não recebi o pedido.\n\nDe: Soporte <soporte@x.cl>\nEnviado: jueves, 19 de noviembre de 2026 10:00\nPara: Ana <ana@x.cl>\nAsunto: RE: Pedido\n\nHola Ana, ya salió.',
    ],
    [
      'Portuguese (Outlook)',
      'Ainda não recebi o pedido.\n\nDe: Soporte <soporte@x.cl>\nEnviada em: quinta-feira, 19 de novembro de 2026 10:00\nPara: Ana <ana@x.cl>\nAssunto: RE: Pedido\n\nOlá Ana, o pedido saiu.',
    ],
    [
      'French (Outlook)',
      'Ainda não recebi o pedido.\n\nDe : Soporte <soporte@x.cl>\nEnvoyé : jeudi 19 novembre 2026 10:00\nÀ : Ana <ana@x.cl>\nObjet : RE: Commande\n\nBonjour Ana.',
    ],
    [
      'Italian (Outlook)',
      'Ainda não recebi o pedido.\n\nDa: Soporte <soporte@x.cl>\nInviato: giovedì 19 novembre 2026 10:00\nA: Ana <ana@x.cl>\nOggetto: R: Ordine\n\nCiao Ana.',
    ],
    [
      'German (Outlook)',
      'Ainda não recebi o pedido.\n\nVon: Soporte <soporte@x.cl>\nGesendet: Donnerstag, 19. November 2026 10:00\nAn: Ana <ana@x.cl>\nBetreff: AW: Bestellung\n\nHallo Ana.',
    ],
    [
      'Catalan (Outlook)',
      'Ainda não recebi o pedido.\n\nDe: Soporte <soporte@x.cl>\nEnviat: dijous, 19 de novembre de 2026 10:00\nPer a: Ana <ana@x.cl>\nAssumpte: RE: Comanda\n\nHola Ana.',
    ],
    [
      'a lone "De:" line starting a forwarded block',
      'Ainda não recebi o pedido.\n\nDe: Soporte Tienda <soporte@x.cl>\n\nHola Ana, tu pedido salió ayer y llega el lunes.',
    ],
  ])('%s', (_client, body) => {
    expect(stripReply(body).reply).toBe('Ainda não recebi o pedido.')
  })

  it('keeps a sentence that starts with "De:" or mentions an address', () => {
    const body = 'De: lunes a viernes puedo pasar a buscarlo.\nMi correo es ana@x.cl'
    expect(stripReply(body).reply).toBe(body)
  })
})

describe('the sign-off', () => {
  it('is kept apart from the text, and apart from a signature block', () => {
    const result = stripReply(
      'Su pedido sale mañana.\n\nSaludos,\nAna\n\n-- \nAna Pérez · Tienda Ejemplo\n+56 2 2987 6543',
    )
    expect(result.reply).toBe('Su pedido sale mañana.')
    expect(result.signOff).toBe('Saludos,\nAna')
    expect(result.signature).toMatch(/^Saludos,\nAna\n-- \nAna Pérez/)
  })
})
