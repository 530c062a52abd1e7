import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RULES_DIR, tempDir } from '../../test/helpers/hub.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { evaluateCorpus, formatCorpusEvaluation } from './evaluate-corpus.js'

// `centralita eval` on a small corpus with the shipped rulebook: what it counts on the
// held-out split and on the validation set, and what it lists.

const temp = tempDir('centralita-eval-')
afterEach(() => temp.cleanup())

const row = (text: string, intent: string, signals?: string[]) =>
  JSON.stringify({ text, lang: 'es', intent, ...(signals ? { signals } : {}) })

function write(dir: string, lines: string[]) {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'rows.jsonl'), `${lines.join('\n')}\n`)
}

describe('evaluateCorpus', () => {
  it('counts automatic replies to sensitive messages and lists the misses of both sets', () => {
    const topics = ['el lavado', 'el pulido', 'el encerado', 'el aspirado', 'la reserva']
    const corpus = topics.flatMap((topic, i) => [
      row(`¿A qué hora abren para ${topic}? (${i})`, 'faq'),
      row(`Pésimo servicio con ${topic}, quiero reclamar (${i})`, 'complaint'),
      row(`Me cobraron dos veces ${topic} (${i})`, 'payment'),
      row(`Voy a demandarlos por ${topic} (${i})`, 'legal', ['legal_threat']),
    ])
    write(join(temp.dir, 'corpus'), corpus)
    // Labelled a complaint on purpose: the hub answers it as the FAQ it reads as, and the
    // evaluation must say that a sensitive message got an automatic reply.
    write(join(temp.dir, 'validation'), [
      row('¿Cuál es el horario de atención?', 'complaint'),
      row('Mi abogado los va a demandar', 'legal', ['legal_threat']),
    ])
    const result = evaluateCorpus(
      join(temp.dir, 'corpus'),
      loadRulebook(RULES_DIR),
      join(temp.dir, 'validation'),
    )
    expect(result.corpus.rows).toBe(20)
    expect(result.corpus.train + result.corpus.test).toBe(20)
    expect(result.validation).toMatchObject({ autoAnsweredSensitive: 1 })
    expect(result.validation?.misses).toEqual(['complaint → faq: ¿Cuál es el horario de atención?'])
    const printed = formatCorpusEvaluation(result, true)
    expect(printed).toContain('validation set written after the rules: 2 messages')
    expect(printed).toContain('validation misses:\n  complaint → faq: ¿Cuál es el horario')
  })
})
