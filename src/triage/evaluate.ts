import { INTENTS, type IntentId, SIGNALS, type SignalId } from './rulebook/schema.js'

export type Prediction = {
  expected: IntentId
  predicted: IntentId
  expectedSignals: SignalId[]
  predictedSignals: string[]
}

export type IntentScore = {
  intent: IntentId
  precision: number
  recall: number
  f1: number
  support: number
}

export type Evaluation = {
  total: number
  accuracy: number
  macroF1: number
  perIntent: IntentScore[]
  /** confusion[expected][predicted] = count */
  confusion: Record<IntentId, Record<IntentId, number>>
  signals: { signal: SignalId; recall: number; support: number; falsePositives: number }[]
  /** Recall over every expected L3 signal occurrence. */
  l3Recall: number
  /** Messages with no L3 signal expected that got one, over all such messages. */
  l3FalseAlarms: number
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b)

/** Per-intent precision, recall and F1, the confusion matrix and L3-signal recall. */
export function evaluate(predictions: readonly Prediction[]): Evaluation {
  const confusion = Object.fromEntries(
    INTENTS.map((e) => [e, Object.fromEntries(INTENTS.map((p) => [p, 0]))]),
  ) as Evaluation['confusion']
  for (const p of predictions) confusion[p.expected][p.predicted]++
  const perIntent = INTENTS.map((intent) => {
    const tp = confusion[intent][intent]
    const support = INTENTS.reduce((s, p) => s + confusion[intent][p], 0)
    const predicted = INTENTS.reduce((s, e) => s + confusion[e][intent], 0)
    const precision = ratio(tp, predicted)
    const recall = ratio(tp, support)
    return {
      intent,
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
      support,
    }
  }).filter((s) => s.support > 0)
  const correct = predictions.filter((p) => p.expected === p.predicted).length
  let l3Expected = 0
  let l3Found = 0
  const signals = SIGNALS.map((signal) => {
    const expected = predictions.filter((p) => p.expectedSignals.includes(signal))
    const found = expected.filter((p) => p.predictedSignals.includes(signal)).length
    l3Expected += expected.length
    l3Found += found
    return {
      signal,
      recall: ratio(found, expected.length),
      support: expected.length,
      falsePositives: predictions.filter(
        (p) => !p.expectedSignals.includes(signal) && p.predictedSignals.includes(signal),
      ).length,
    }
  })
  return {
    total: predictions.length,
    accuracy: ratio(correct, predictions.length),
    macroF1: ratio(
      perIntent.reduce((s, i) => s + i.f1, 0),
      perIntent.length,
    ),
    perIntent,
    confusion,
    signals,
    l3Recall: ratio(l3Found, l3Expected),
    l3FalseAlarms: ratio(
      predictions.filter(
        (p) =>
          p.expectedSignals.length === 0 &&
          p.predictedSignals.some((s) => (SIGNALS as readonly string[]).includes(s)),
      ).length,
      predictions.filter((p) => p.expectedSignals.length === 0).length,
    ),
  }
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(6)

/** A plain-text report: the table, the confusion matrix (rows expected, columns predicted). */
export function formatEvaluation(title: string, e: Evaluation): string {
  const lines = [
    `== ${title}: ${e.total} messages, accuracy ${pct(e.accuracy)}, macro-F1 ${e.macroF1.toFixed(3)}`,
  ]
  lines.push('intent      precision  recall     F1  support')
  for (const s of e.perIntent) {
    lines.push(
      `${s.intent.padEnd(11)} ${pct(s.precision)}    ${pct(s.recall)} ${s.f1.toFixed(3)}  ${String(s.support).padStart(7)}`,
    )
  }
  const used = INTENTS.filter(
    (i) => e.perIntent.some((s) => s.intent === i) || INTENTS.some((x) => e.confusion[x][i] > 0),
  )
  lines.push(
    '',
    `confusion (rows: expected, columns: predicted)`,
    `${''.padEnd(11)}${used.map((i) => i.slice(0, 6).padStart(7)).join('')}`,
  )
  for (const expected of used) {
    lines.push(
      `${expected.padEnd(11)}${used.map((p) => String(e.confusion[expected][p] || '.').padStart(7)).join('')}`,
    )
  }
  if (e.signals.every((s) => s.support === 0)) return lines.join('\n')
  lines.push('', 'L3 signals   recall  support  false+')
  for (const s of e.signals) {
    lines.push(
      `${s.signal.padEnd(16)} ${pct(s.recall)} ${String(s.support).padStart(7)} ${String(s.falsePositives).padStart(7)}`,
    )
  }
  lines.push(`L3-signal recall (all): ${pct(e.l3Recall)}`)
  lines.push(`L3 false alarms (messages without L3 that got a signal): ${pct(e.l3FalseAlarms)}`)
  return lines.join('\n')
}
