import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Rulebook } from './rulebook/compile.js'
import type { IntentId, SignalId } from './rulebook/schema.js'
import { type IntentClassifier, triage } from './triage.js'

/**
 * The development sets in `data/dev/` (see its README): text the classifier never trained on,
 * some of it real (CFPB complaints, CLINC150's out-of-scope queries), some written for other
 * businesses and registers than the corpus. What each set can tell is measured on it:
 * - labelled sets (`intent`, `signals`): accuracy, L3 recall and false alarms per message,
 *   and complaint-vs-not as a balanced accuracy;
 * - `en_cfpb_complaints`: every row is a grievance (how many are read as one);
 * - `en_clinc_oos_val`: none is (how many are read as a grievance or a quote).
 */
export type DevReport =
  | {
      set: string
      kind: 'labelled'
      rows: number
      accuracy: number
      l3: {
        recall: number
        expected: number
        falseAlarms: number
        without: number
        /** Per signal: found / expected (the message got that very signal). */
        bySignal: Record<string, [number, number]>
        /** Per signal: messages without any L3 label that got it. */
        falseBySignal: Record<string, number>
      }
      complaintVsNot: number
      answeredSensitive: number
      confusions: Record<string, number>
    }
  | { set: string; kind: 'grievances'; rows: number; asGrievance: number; answered: number }
  | {
      set: string
      kind: 'out_of_scope'
      rows: number
      asGrievanceOrQuote: number
      answered: number
    }

type DevRow = { text: string; intent?: IntentId; signals?: SignalId[] }

// The measures' own lists, not the triage's: the measure must not move if the triage changes.
const GRIEVANCE: readonly IntentId[] = ['complaint', 'legal', 'payment']
const OUT_OF_SCOPE_WRONG: readonly IntentId[] = ['complaint', 'legal', 'payment', 'quote']

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b)

function readRows(file: string): DevRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as DevRow)
}

export function evaluateDevSets(
  dir: string,
  rulebook: Rulebook,
  classifier: IntentClassifier | null,
): DevReport[] {
  if (!existsSync(dir)) return []
  const reports: DevReport[] = []
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    const set = name.replace(/\.jsonl$/, '')
    const rows = readRows(join(dir, name))
    const decisions = rows.map((row) => triage({ text: row.text }, rulebook, classifier))
    const answered = decisions.filter((d) => d.reply !== null).length
    if (set.includes('cfpb')) {
      reports.push({
        set,
        kind: 'grievances',
        rows: rows.length,
        asGrievance: ratio(
          decisions.filter((d) => GRIEVANCE.includes(d.intent)).length,
          rows.length,
        ),
        answered,
      })
      continue
    }
    if (set.includes('oos')) {
      reports.push({
        set,
        kind: 'out_of_scope',
        rows: rows.length,
        asGrievanceOrQuote: ratio(
          decisions.filter((d) => OUT_OF_SCOPE_WRONG.includes(d.intent)).length,
          rows.length,
        ),
        answered,
      })
      continue
    }
    let correct = 0
    let l3Expected = 0
    let l3Found = 0
    let without = 0
    let falseAlarms = 0
    let answeredSensitive = 0
    const confusions: Record<string, number> = {}
    const bySignal: Record<string, [number, number]> = {}
    const falseBySignal: Record<string, number> = {}
    // Complaint vs not: true/false positives and negatives of "is a grievance".
    const cell = { tp: 0, fn: 0, tn: 0, fp: 0 }
    rows.forEach((row, i) => {
      const d = decisions[i]!
      if (d.intent === row.intent) correct++
      else {
        const key = `${row.intent} → ${d.intent}`
        confusions[key] = (confusions[key] ?? 0) + 1
      }
      const isL3 = d.level === 'L3'
      for (const signal of row.signals ?? []) {
        const entry = bySignal[signal] ?? [0, 0]
        bySignal[signal] = entry
        entry[1]++
        if (d.signals.includes(signal)) entry[0]++
      }
      if ((row.signals ?? []).length > 0) {
        l3Expected++
        if (isL3) l3Found++
      } else {
        without++
        if (isL3) falseAlarms++
        for (const signal of d.signals)
          if (signal !== 'repeat_complainer')
            falseBySignal[signal] = (falseBySignal[signal] ?? 0) + 1
      }
      const expected = GRIEVANCE.includes(row.intent!)
      const predicted = GRIEVANCE.includes(d.intent)
      if (expected && predicted) cell.tp++
      else if (expected) cell.fn++
      else if (predicted) cell.fp++
      else cell.tn++
      if (expected && d.reply) answeredSensitive++
    })
    reports.push({
      set,
      kind: 'labelled',
      rows: rows.length,
      accuracy: ratio(correct, rows.length),
      l3: {
        recall: ratio(l3Found, l3Expected),
        expected: l3Expected,
        falseAlarms: ratio(falseAlarms, without),
        without,
        bySignal,
        falseBySignal,
      },
      complaintVsNot: (ratio(cell.tp, cell.tp + cell.fn) + ratio(cell.tn, cell.tn + cell.fp)) / 2,
      answeredSensitive,
      confusions,
    })
  }
  return reports
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`

export function formatDevReports(reports: readonly DevReport[], showConfusions: boolean): string {
  const lines = ['== development sets (data/dev: text the classifier never trained on)']
  for (const r of reports) {
    if (r.kind === 'grievances') {
      lines.push(
        `${r.set} (${r.rows} real complaints): read as a grievance ${pct(r.asGrievance)}; answered automatically ${r.answered}`,
      )
    } else if (r.kind === 'out_of_scope') {
      lines.push(
        `${r.set} (${r.rows} real out-of-scope queries): read as complaint, legal, payment or quote ${pct(r.asGrievanceOrQuote)}; answered automatically ${r.answered}`,
      )
    } else {
      lines.push(
        `${r.set} (${r.rows}): accuracy ${pct(r.accuracy)}, L3 recall ${pct(r.l3.recall)} (${r.l3.expected}), L3 false alarms ${pct(r.l3.falseAlarms)} (${r.l3.without}), complaint vs not balanced accuracy ${r.complaintVsNot.toFixed(2)}, grievances answered automatically ${r.answeredSensitive}`,
      )
      const signals = Object.entries(r.l3.bySignal)
        .map(([s, [found, all]]) => `${s} ${found}/${all}`)
        .join(', ')
      if (signals) lines.push(`  L3 signals found: ${signals}`)
      const alarms = Object.entries(r.l3.falseBySignal)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')
      if (alarms) lines.push(`  false alarms by signal: ${alarms}`)
      if (showConfusions) {
        const top = Object.entries(r.confusions)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
        if (top.length > 0)
          lines.push(`  most confused: ${top.map(([k, n]) => `${k} ${n}`).join(', ')}`)
      }
    }
  }
  return lines.join('\n')
}
