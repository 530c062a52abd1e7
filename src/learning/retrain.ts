import type { Logger } from '../kit/logger.js'
import type { Sql } from '../store/sql.js'
import { compileModel, modelScorer, trainModel } from '../triage/classifier/bayes.js'
import { encodeModel, MODEL_VERSION } from '../triage/classifier/compiled-model.js'
import { type CorpusRow, isHeldOut, loadCorpus, splitCorpus } from '../triage/classifier/corpus.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { IntentId } from '../triage/rulebook/schema.js'
import { type IntentClassifier, triage } from '../triage/triage.js'
import { type LearnedExample, learnedExamples } from './corrections.js'
import { activeModel, storeAdopted, storeRefused } from './model-store.js'

// `centralita train` with a database: the corpus plus what people corrected, and a new model
// only when it is not worse than the running one.

/**
 * Times each correction counts in training: a person chose its label looking at a real
 * customer's words, for this business; the corpus is general. Three copies make a dozen
 * corrections of a new way of saying something outweigh the corpus's scattered evidence
 * against it, without letting one correction outvote the corpus.
 */
export const CORRECTION_WEIGHT = 3

/**
 * How many held-out corpus messages fewer a new model may get right and still count as "not
 * worse" (out of about 620): training on more data moves a borderline message or two either
 * way, which is noise and not a loss. Missed L3 signals and automatic answers to complaints,
 * legal threats or payment problems have no such allowance, nor do the held-out corrections.
 */
export const CORPUS_ALLOWANCE = 2

const SENSITIVE: readonly IntentId[] = ['complaint', 'legal', 'payment']

/** How a model's triage did on a held-out set. */
export type Measure = {
  rows: number
  correct: number
  /** L3 signals the messages carry, and how many of them the triage missed. */
  signals: number
  signalsMissed: number
  /** Complaints, legal threats and payment problems answered automatically (must stay 0). */
  sensitiveAnswered: number
}

export type RetrainMetrics = {
  trainedOn: { corpus: number; corrections: number; correctionsHeldOut: number }
  corpus: { candidate: Measure; reference: Measure }
  corrections: { candidate: Measure; reference: Measure }
}

export type RetrainOutcome =
  | { outcome: 'nothing_new'; reason: string }
  | { outcome: 'adopted' | 'refused'; modelId: number; reason: string; metrics: RetrainMetrics }

/**
 * Trains a candidate on the corpus's training split plus the corrections' training split, and
 * a reference the same way with the corrections the running model learnt from (none for the
 * corpus model). Both are judged on the held-out corpus split and the held-out corrections
 * (chosen by a hash of the text, as the corpus split is). The candidate is adopted only if it
 * is not worse on either; then the model put in use is trained on everything (corpus and all
 * corrections). Refused or adopted, the training is stored with its measures and why.
 */
/** The advisory lock that keeps instances on one PostgreSQL to one training at a time ("trn"). */
const RETRAIN_LOCK = 0x74726e

/**
 * `retrain`, unless another process is training on the same PostgreSQL (`busy`). The lock is
 * a session's, held until the store closes: for the processes that train and end (the child
 * the hub starts, `centralita train`), never for a hub itself.
 */
export async function retrainAlone(
  db: Sql,
  options: Parameters<typeof retrain>[1],
): Promise<RetrainOutcome | { outcome: 'busy'; reason: string }> {
  if (db.dialect === 'postgres') {
    const lock = await db.get<{ free: boolean }>('select pg_try_advisory_lock(?) as free', [
      RETRAIN_LOCK,
    ])
    if (lock?.free !== true)
      return { outcome: 'busy', reason: 'another instance is retraining right now' }
  }
  return retrain(db, options)
}

export async function retrain(
  db: Sql,
  options: {
    corpusDir: string
    rulebook: Rulebook
    by: string
    now: () => number
    logger?: Logger
  },
): Promise<RetrainOutcome> {
  const corpus = loadCorpus(options.corpusDir)
  const split = splitCorpus(corpus.rows)
  const examples = await learnedExamples(db)
  const running = await activeModel(db)
  // A model of another corpus or model version is not used by the hub (it runs the corpus's).
  const current =
    running && running.corpusHash === corpus.hash && running.modelVersion === MODEL_VERSION
      ? running
      : null
  const through = current?.throughCorrection ?? 0
  const newest = examples.at(-1)?.id ?? 0
  if (examples.every((e) => e.id <= through)) {
    return {
      outcome: 'nothing_new',
      reason:
        examples.length === 0
          ? 'no corrections of an intent or signals to learn from yet'
          : `no corrections since the running model (#${current?.id})`,
    }
  }
  const learn = examples.filter((e) => !isHeldOut(e))
  const heldOut = examples.filter((e) => isHeldOut(e))
  const train = (extra: readonly LearnedExample[], rows = split.train) =>
    modelScorer(trainModel([...rows, ...weighted(extra)], corpus.hash))
  const started = options.now()
  const candidate = train(learn)
  const reference = train(learn.filter((e) => e.id <= through))
  const asRows = heldOut.map(rowOf)
  const metrics: RetrainMetrics = {
    trainedOn: {
      corpus: split.train.length,
      corrections: learn.length,
      correctionsHeldOut: heldOut.length,
    },
    corpus: {
      candidate: measure(split.test, options.rulebook, candidate),
      reference: measure(split.test, options.rulebook, reference),
    },
    corrections: {
      candidate: measure(asRows, options.rulebook, candidate),
      reference: measure(asRows, options.rulebook, reference),
    },
  }
  const worse = worseness(metrics)
  const stored = {
    metrics,
    corpusHash: corpus.hash,
    modelVersion: MODEL_VERSION,
    throughCorrection: newest,
    corrections: examples.length,
    by: options.by,
    at: options.now(),
  }
  const against = current ? `the running model (#${current.id})` : 'the corpus model'
  if (worse.length > 0) {
    const reason = `worse than ${against}: ${worse.join('; ')}`
    const modelId = await storeRefused(db, { ...stored, reason })
    options.logger?.warn({ modelId, reason }, 'retrained model refused')
    return { outcome: 'refused', modelId, reason, metrics }
  }
  const reason = `not worse than ${against}: ${summary(metrics)}`
  // In use: trained on everything, the held-out parts too.
  const model = compileModel(trainModel([...corpus.rows, ...weighted(examples)], corpus.hash))
  const modelId = await storeAdopted(db, { ...stored, reason }, (id) =>
    encodeModel({ ...model, origin: `model #${id}, ${examples.length} corrections` }),
  )
  options.logger?.info(
    { modelId, ms: options.now() - started, corrections: examples.length },
    'retrained model adopted',
  )
  return { outcome: 'adopted', modelId, reason, metrics }
}

const rowOf = (e: LearnedExample): CorpusRow => ({
  text: e.text,
  lang: e.lang,
  intent: e.intent,
  ...(e.signals.length > 0 ? { signals: e.signals } : {}),
})

function weighted(examples: readonly LearnedExample[]): CorpusRow[] {
  return examples.flatMap((e) => Array.from({ length: CORRECTION_WEIGHT }, () => rowOf(e)))
}

function measure(rows: readonly CorpusRow[], rulebook: Rulebook, scorer: IntentClassifier) {
  const out: Measure = {
    rows: rows.length,
    correct: 0,
    signals: 0,
    signalsMissed: 0,
    sensitiveAnswered: 0,
  }
  for (const row of rows) {
    const decision = triage({ text: row.text }, rulebook, scorer)
    if (decision.intent === row.intent) out.correct++
    for (const signal of row.signals ?? []) {
      out.signals++
      if (!decision.signals.includes(signal)) out.signalsMissed++
    }
    if (decision.reply && SENSITIVE.includes(row.intent)) out.sensitiveAnswered++
  }
  return out
}

/** What makes the candidate worse than the reference, if anything. */
function worseness({ corpus, corrections }: RetrainMetrics): string[] {
  const out: string[] = []
  const { candidate: c, reference: r } = corpus
  if (c.correct < r.correct - CORPUS_ALLOWANCE)
    out.push(`held-out corpus ${right(c)} right against ${right(r)}`)
  if (c.signalsMissed > r.signalsMissed)
    out.push(`misses ${c.signalsMissed} held-out L3 signals against ${r.signalsMissed}`)
  if (c.sensitiveAnswered > r.sensitiveAnswered)
    out.push(
      `answers ${c.sensitiveAnswered} held-out complaints, legal threats or payment problems by itself against ${r.sensitiveAnswered}`,
    )
  if (corrections.candidate.correct < corrections.reference.correct)
    out.push(
      `held-out corrections ${right(corrections.candidate)} right against ${right(corrections.reference)}`,
    )
  return out
}

const right = (m: Measure) =>
  `${m.correct}/${m.rows} (${m.rows === 0 ? '—' : `${Math.round((1000 * m.correct) / m.rows) / 10} %`})`

function summary({ corpus, corrections }: RetrainMetrics): string {
  return `held-out corpus ${right(corpus.candidate)} right against ${right(corpus.reference)}, held-out corrections ${right(corrections.candidate)} against ${right(corrections.reference)}`
}
