import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { modelScorer, scoreText, trainModel } from '../triage/classifier/bayes.js'
import { type CorpusRow, loadCorpus, splitCorpus } from '../triage/classifier/corpus.js'
import { evaluate, formatEvaluation, type Prediction } from '../triage/evaluate.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { IntentId } from '../triage/rulebook/schema.js'
import { type IntentClassifier, triage } from '../triage/triage.js'

// The issue's list, written out here rather than imported from the triage: the measure must
// not move if the triage's own list does.
const SENSITIVE: readonly IntentId[] = ['complaint', 'legal', 'payment']

const top = (scores: Map<IntentId, number>): IntentId =>
  [...scores].sort((a, b) => b[1] - a[1])[0]![0]

/**
 * `npm run eval`: trains a model on the training split only and measures, on the held-out
 * split it never saw, the classifier alone and the full triage (rules + classifier).
 * Also reports how often a complaint, legal threat or payment problem would get an
 * automatic reply (it must be never).
 */
export function evaluateCorpus(corpusDir: string, rulebook: Rulebook, validationDir?: string) {
  const corpus = loadCorpus(corpusDir)
  const { train, test } = splitCorpus(corpus.rows)
  const scorer = modelScorer(trainModel(train, corpus.hash))
  const validation =
    validationDir && existsSync(validationDir) ? loadCorpus(validationDir).rows : []
  const classifierOnly: Prediction[] = test.map((row) => ({
    expected: row.intent,
    predicted: top(scoreText(scorer, row.text)),
    expectedSignals: [],
    predictedSignals: [],
  }))
  const held = judge(test, rulebook, scorer)
  const checked = judge(validation, rulebook, scorer)
  return {
    corpus: { rows: corpus.rows.length, train: train.length, test: test.length },
    validation:
      validation.length > 0
        ? {
            ...evaluate(checked.predictions),
            autoAnsweredSensitive: checked.autoAnsweredSensitive,
            misses: checked.misses,
          }
        : null,
    classifier: evaluate(classifierOnly),
    triage: evaluate(held.predictions),
    needsHumanRate: test.length === 0 ? 0 : held.needsHuman / test.length,
    autoAnsweredSensitive: held.autoAnsweredSensitive,
    misses: held.misses,
    crossValidation: crossValidate(train),
  }
}

/** The full triage of each row against its label: predictions, misses and unsafe replies. */
function judge(rows: readonly CorpusRow[], rulebook: Rulebook, scorer: IntentClassifier) {
  const predictions: Prediction[] = []
  const misses: string[] = []
  let autoAnsweredSensitive = 0
  let needsHuman = 0
  for (const row of rows) {
    const decision = triage({ text: row.text }, rulebook, scorer)
    predictions.push({
      expected: row.intent,
      predicted: decision.intent,
      expectedSignals: row.signals ?? [],
      predictedSignals: decision.signals,
    })
    if (decision.needsHuman) needsHuman++
    if (decision.reply && SENSITIVE.includes(row.intent)) autoAnsweredSensitive++
    const missedSignal = (row.signals ?? []).some((s) => !decision.signals.includes(s))
    if (decision.intent !== row.intent || missedSignal) {
      misses.push(
        `${row.intent} → ${decision.intent}${missedSignal ? ` (signals ${row.signals?.join(',')} → ${decision.signals.join(',') || 'none'})` : ''}: ${row.text}`,
      )
    }
  }
  return { predictions, misses, autoAnsweredSensitive, needsHuman }
}

/** 5-fold cross-validated accuracy of the classifier on the training split (model selection). */
function crossValidate(train: readonly CorpusRow[]): number {
  const fold = (text: string) => createHash('md5').update(text).digest()[0]! % 5
  let correct = 0
  for (let k = 0; k < 5; k++) {
    const scorer = modelScorer(
      trainModel(
        train.filter((r) => fold(r.text) !== k),
        'cv',
      ),
    )
    for (const row of train.filter((r) => fold(r.text) === k)) {
      if (top(scoreText(scorer, row.text)) === row.intent) correct++
    }
  }
  return train.length === 0 ? 0 : correct / train.length
}

export function formatCorpusEvaluation(
  result: ReturnType<typeof evaluateCorpus>,
  showMisses: boolean,
): string {
  const lines = [
    `corpus: ${result.corpus.rows} examples, ${result.corpus.train} for training, ${result.corpus.test} held out`,
    `classifier 5-fold cross-validated accuracy on the training split: ${(result.crossValidation * 100).toFixed(1)}%`,
    '',
    formatEvaluation('classifier alone, held-out split', result.classifier),
    '',
    formatEvaluation('triage (rules + classifier), held-out split', result.triage),
    '',
    `sent to a person (needs human): ${(result.needsHumanRate * 100).toFixed(1)}%`,
    `complaints, legal threats or payment problems answered automatically: ${result.autoAnsweredSensitive}`,
  ]
  if (showMisses && result.misses.length > 0)
    lines.push('', 'misses:', ...result.misses.map((m) => `  ${m}`))
  const validation = result.validation
  if (validation) {
    lines.push(
      '',
      formatEvaluation(
        'triage (rules + classifier), validation set written after the rules',
        validation,
      ),
      '',
      `complaints, legal threats or payment problems answered automatically: ${validation.autoAnsweredSensitive}`,
    )
    if (showMisses && validation.misses.length > 0)
      lines.push('', 'validation misses:', ...validation.misses.map((m) => `  ${m}`))
  }
  return lines.join('\n')
}
