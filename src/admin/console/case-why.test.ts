import { describe, expect, it } from 'vitest'
import { type CaseFacts, quoteOf, whyHere } from './case-why.js'

const DAY = 86_400_000
const decision = (
  over: Partial<CaseFacts['decisions'][number]>,
): CaseFacts['decisions'][number] => ({
  id: 1,
  messageId: 10,
  intent: 'complaint',
  level: 'L1',
  queue: 'calidad',
  signals: [],
  explanation: { hits: [] },
  createdAt: DAY,
  ...over,
})

describe('why a case is where it is', () => {
  const facts: CaseFacts = {
    ticket: { level: 'L3', queue: 'legal', messageId: 10 },
    interactions: [
      { id: 10, text: 'El pedido llegó tarde.', sentAt: DAY, direction: 'inbound' },
      {
        id: 11,
        text: 'Sigo esperando. Si no me devuelven el dinero los voy a demandar. Gracias.',
        sentAt: 2 * DAY,
        direction: 'inbound',
      },
      { id: 12, text: 'Sigo esperando', sentAt: 3 * DAY, direction: 'inbound' },
    ],
    decisions: [
      decision({}),
      decision({
        id: 2,
        messageId: 11,
        intent: 'legal',
        level: 'L3',
        queue: 'legal',
        signals: ['legal_threat', 'repeat_complainer'],
        explanation: {
          hits: [
            { target: 'legal_threat', matched: 'demandar' },
            { target: 'payment', matched: 'devuelven el dinero' },
          ],
        },
        createdAt: 2 * DAY,
      }),
      // A later follow-up decided lower: it does not explain the case.
      decision({ id: 3, messageId: 12, level: 'L1', createdAt: 3 * DAY }),
    ],
    escalations: [
      {
        fromLevel: null,
        toLevel: 'L1',
        reason: 'reclamo',
        escalatedBy: 'centralita (reglas)',
        createdAt: DAY,
      },
      {
        fromLevel: 'L1',
        toLevel: 'L3',
        reason: 'amenaza legal',
        escalatedBy: 'centralita (reglas)',
        createdAt: 2 * DAY,
      },
    ],
  }

  it('quotes the message the rules raised the case for, and names the signal', () => {
    expect(whyHere(facts)).toEqual({
      kind: 'words',
      at: 2 * DAY,
      level: 'L3',
      queue: 'legal',
      quote: 'Si no me devuelven el dinero los voy a demandar.',
      codes: ['legal_threat'],
      decisionId: 2,
    })
  })

  it("names the person who escalated, with their reason, over the rules' decision", () => {
    const escalated = {
      ...facts,
      escalations: [
        ...facts.escalations.slice(0, 1),
        {
          fromLevel: 'L1',
          toLevel: 'L3',
          reason: 'Pide abogado',
          escalatedBy: 'Ana <ana@x.example>',
          createdAt: 4 * DAY,
        },
      ],
    }
    expect(whyHere(escalated)).toMatchObject({
      kind: 'person',
      by: 'Ana <ana@x.example>',
      reason: 'Pide abogado',
    })
  })

  it('says when the clock moved the case up', () => {
    const expired = {
      ...facts,
      escalations: [
        {
          fromLevel: 'L2',
          toLevel: 'L3',
          reason: 'SLA L2 vencido',
          escalatedBy: 'centralita (SLA)',
          createdAt: 5 * DAY,
        },
      ],
    }
    expect(whyHere(expired)).toMatchObject({ kind: 'clock', reason: 'SLA L2 vencido', level: 'L3' })
  })

  it('explains a case without a level by the message that opened it', () => {
    const plain = {
      ...facts,
      ticket: { level: null, queue: 'calidad', messageId: 10 },
      escalations: [],
    }
    expect(whyHere(plain)).toMatchObject({
      kind: 'words',
      quote: 'El pedido llegó tarde.',
      codes: ['complaint'],
    })
  })

  it('quotes a sentence without accents mattering, and cuts a long one at a word', () => {
    expect(quoteOf('Hola. Me cobraron dos veces. Adiós.', ['COBRARON'])).toBe(
      'Me cobraron dos veces.',
    )
    expect(quoteOf('¿Por qué no responden? Ya pasó una semana', ['paso'])).toBe(
      'Ya pasó una semana',
    )
    const long = quoteOf(`${'palabra '.repeat(40)}final`, ['final'])
    expect(long.length).toBeLessThanOrEqual(160)
    expect(long.endsWith('palabra…')).toBe(true)
  })
})
