import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/contracts/message.js'
import { unflow } from './format-flowed.js'
import { normalizeMail } from './normalize.js'
import { parseMime } from './parse-mime.js'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name))

describe('format=flowed (RFC 3676)', () => {
  it('joins soft breaks within a quote depth, never across one', () => {
    expect(unflow('> Hi \nHello', false)).toBe('> Hi \nHello')
    expect(unflow('> one \n> two\nthree \nfour', false)).toBe('> one two\nthree four')
    expect(unflow('>> deep \n> shallow', false)).toBe('>> deep \n> shallow')
  })

  it('removes space-stuffing and, with DelSp, the space that made a break soft', () => {
    expect(unflow(' >not a quote\n  indented', false)).toBe('>not a quote\n indented')
    expect(unflow('set \nmanes', true)).toBe('setmanes')
    expect(unflow('set \nmanes', false)).toBe('set manes')
  })

  it('keeps the signature separator a line of its own', () => {
    expect(unflow('Gracias \n-- \nAna', false)).toBe('Gracias \n-- \nAna')
    expect(unflow('Gracias\n-- \nAna', false)).toBe('Gracias\n-- \nAna')
  })

  it('reads a Thunderbird reply below the quote as the customer wrote it', async () => {
    const raw = fixture('respuesta_thunderbird.eml')
    const mail = await parseMime(raw)
    const out = normalizeMail(mail, {
      rawHash: sha256Hex(raw),
      now: new Date('2026-11-20T14:03:00Z'),
      ownAddresses: ['soporte@tienda.example'],
    })
    if (out.kind !== 'message') throw new Error(out.reason)
    expect(out.message.text).toBe(
      [
        'Sí, despáchenlo mañana por favor. La dirección es calle Errázuriz 1234, depto 56, Punta Arenas.',
        '',
        '',
        '¿Me mandan el número de seguimiento cuando salga?',
      ].join('\n'),
    )
  })

  it('reads a Catalan Thunderbird reply sent with DelSp', async () => {
    const raw = fixture('respuesta_thunderbird_delsp.eml')
    const out = normalizeMail(await parseMime(raw), {
      rawHash: sha256Hex(raw),
      now: new Date('2026-11-20T15:21:00Z'),
      ownAddresses: ['soporte@tienda.example'],
    })
    if (out.kind !== 'message') throw new Error(out.reason)
    expect(out.message.text).toBe(
      'Bon dia, encara no he rebut la comanda i ja han passat dues setmanes. Em podeu dir on és?',
    )
  })
})
