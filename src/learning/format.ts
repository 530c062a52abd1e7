import type { ModelView } from './model-store.js'
import type { Measure, RetrainMetrics, RetrainOutcome } from './retrain.js'

// How the CLI shows trainings (the console has its own pages: `admin/console/learning.ts`).

const percent = (m: Measure) =>
  m.rows === 0 ? '—' : `${Math.round((1000 * m.correct) / m.rows) / 10} %`

/** One line per held-out set: the candidate against the reference. */
export function formatMetrics(metrics: RetrainMetrics): string {
  const line = (label: string, pair: RetrainMetrics['corpus']) =>
    `  ${label.padEnd(22)} new ${`${pair.candidate.correct}/${pair.candidate.rows}`.padStart(9)} ${percent(pair.candidate).padStart(7)}   running ${`${pair.reference.correct}/${pair.reference.rows}`.padStart(9)} ${percent(pair.reference).padStart(7)}   L3 missed ${pair.candidate.signalsMissed} vs ${pair.reference.signalsMissed}`
  return [
    `  trained on ${metrics.trainedOn.corpus} corpus messages and ${metrics.trainedOn.corrections} corrections (${metrics.trainedOn.correctionsHeldOut} corrections held out)`,
    line('held-out corpus', metrics.corpus),
    line('held-out corrections', metrics.corrections),
  ].join('\n')
}

export function formatRetrain(result: RetrainOutcome): string {
  if (result.outcome === 'nothing_new') return `no new model: ${result.reason}`
  const head =
    result.outcome === 'adopted'
      ? `model #${result.modelId} adopted: the hub uses it within seconds`
      : `model #${result.modelId} refused: the running model stays`
  return `${head}\n  ${result.reason}\n${formatMetrics(result.metrics)}`
}

export function formatModels(rows: readonly ModelView[]): string {
  if (rows.length === 0) return 'no trainings yet: the corpus model is in use'
  return rows
    .map(
      (r) =>
        `#${r.id}  ${r.status.padEnd(8)}  ${new Date(r.createdAt).toISOString().slice(0, 16)}  by ${r.by}  ${r.corrections} corrections${r.kept ? '' : ' (weights dropped)'}\n    ${r.reason}`,
    )
    .join('\n')
}
