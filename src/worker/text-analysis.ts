import { Worker } from 'node:worker_threads'
import type { Logger } from '../kit/logger.js'
import type { Sql } from '../store/sql.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { allTerms, type RulebookSource } from '../triage/rulebook/schema.js'
import type { IntentClassifier, TextAnalysis, TextInput } from '../triage/triage.js'

/**
 * Text analyses worked out ahead, on a thread of their own. The triage worker asks for the
 * messages it will reach next and takes each one's analysis when it gets there, or works it
 * out itself when it has not come (the analysis is pure, so either way the decision is the
 * same). The main thread keeps the database, the HTTP path and everything that depends on a
 * message's situation; the thread takes the part of triage that reads only the text.
 */
export type TextAnalyses = {
  /** Asks for the analyses of the messages queued after `after` (the triage cursor). */
  prefetch(db: Sql, after: number, rulebook: Rulebook): Promise<void>
  /**
   * The message's analysis, if it came and was worked out with this rulebook and classifier
   * (each is handed out once); 'waiting' while the thread works on it; undefined when the
   * caller should work it out itself (never asked for, or the thread failed or is late).
   */
  take(
    messageId: number,
    rulebook: Rulebook,
    classifier: IntentClassifier | null,
  ): TextAnalysis | 'waiting' | undefined
  /**
   * Analyse with this classifier from now on (a model adopted or rolled back). Analyses made
   * with the one before are not taken: their classifier's name differs.
   */
  useClassifier(classifier: IntentClassifier | null): void
  /** Called when answers come in (the triage worker waits for them). */
  onAnswers(listener: () => void): void
  close(): Promise<void>
}

/** What the thread is sent: the rules to analyse with, and messages to analyse. */
export type AnalysisRequest =
  | {
      kind: 'rules'
      version: string
      settings: Pick<
        RulebookSource['settings'],
        'default_language' | 'l3_classifier' | 'news_outlets'
      >
      intents: RulebookSource['intents']['intents']
      signals: RulebookSource['intents']['signals']
      acts: RulebookSource['intents']['acts']
      faq: RulebookSource['faq']
    }
  | { kind: 'analyze'; items: (TextInput & { id: number })[] }
  | { kind: 'classifier'; file: string | null }

/** What the thread says when it has compiled a rulebook. */
type Ready = { ready: string }

/** Analyses asked for and not yet taken or dropped, at most. */
const AHEAD = 256
/** Messages per request to the thread (it answers each request at once). */
const BATCH = 32
/**
 * How long a message waits for its analysis before triage works it out itself: the thread
 * takes a second or so to start, and this bounds what a stuck thread can hold up.
 */
const WAIT_MS = 3000

/**
 * Starts the thread. Only a classifier with a file (its cache) can be shared: without one, or
 * when the thread fails, triage works every analysis out on the main thread.
 */
export function startTextAnalyses(options: {
  classifier: IntentClassifier | null
  logger: Logger
  /** The thread's script (tests start threads that fail or never answer). */
  script?: URL
  waitMs?: number
}): TextAnalyses | undefined {
  const waitMs = options.waitMs ?? WAIT_MS
  if (options.classifier && !options.classifier.file) {
    options.logger.warn('the classifier has no cache file: text analysis stays on the main thread')
    return undefined
  }
  const worker = new Worker(
    options.script ?? new URL('./text-analysis-thread.js', import.meta.url),
    {
      workerData: { classifierFile: options.classifier?.file ?? null },
      // Its garbage is small and short-lived; its heap is the rules and the classifier.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    },
  )
  worker.unref()
  const ready = new Map<number, TextAnalysis>()
  /** Messages asked for and not answered yet, with when. */
  const inFlight = new Map<number, number>()
  let listener = () => {}
  let asked = 0
  let last = 0
  let rulesSent: string | null = null
  let alive = true
  worker.on('message', (results: { id: number; analysis: TextAnalysis | null }[] | Ready) => {
    if (!Array.isArray(results)) {
      options.logger.info({ rulebook: results.ready }, 'text analysis thread ready')
      return
    }
    for (const { id, analysis } of results) {
      inFlight.delete(id)
      if (analysis) ready.set(id, analysis)
      else asked--
    }
    listener()
  })
  worker.on('error', (err) => {
    alive = false
    options.logger.error({ err }, 'text analysis thread failed: triage does it on the main thread')
    // Messages waiting for it go on at once.
    listener()
  })
  worker.on('exit', () => {
    alive = false
  })
  return {
    async prefetch(db, after, rulebook) {
      if (!alive) return
      if (rulesSent !== rulebook.version) {
        const { source, version } = rulebook
        const { default_language, l3_classifier, news_outlets } = source.settings
        worker.postMessage({
          kind: 'rules',
          version,
          settings: { default_language, l3_classifier, news_outlets },
          ...allTerms(source),
          faq: source.faq,
        } satisfies AnalysisRequest)
        rulesSent = version
      }
      // Analyses of messages the queue has passed will not be taken (the message was an
      // answer to relay or a survey score, or was triaged before its analysis came).
      for (const id of ready.keys()) {
        if (id > after) break
        ready.delete(id)
        asked--
      }
      if (last < after) last = after
      const room = AHEAD - asked
      if (room < BATCH) return
      const rows = (
        await db.all<TextInput & { id: number }>(UPCOMING, [last, true, 'inbound'])
      ).slice(0, room)
      if (rows.length === 0) return
      last = rows[rows.length - 1]!.id
      asked += rows.length
      const at = Date.now()
      for (const row of rows) inFlight.set(row.id, at)
      for (let i = 0; i < rows.length; i += BATCH)
        worker.postMessage({
          kind: 'analyze',
          items: rows.slice(i, i + BATCH),
        } satisfies AnalysisRequest)
    },
    take(messageId, rulebook, classifier) {
      const analysis = ready.get(messageId)
      if (analysis === undefined) {
        const since = inFlight.get(messageId)
        return alive && since !== undefined && Date.now() - since < waitMs ? 'waiting' : undefined
      }
      ready.delete(messageId)
      asked--
      const current =
        analysis.rulebookVersion === rulebook.version &&
        analysis.classifierName === (classifier?.name ?? null)
      return current ? analysis : undefined
    },
    useClassifier(classifier) {
      if (!alive) return
      if (classifier && !classifier.file) {
        // It cannot be shared: every analysis is worked out on the main thread from now on.
        options.logger.warn('the new classifier has no file: text analysis back on the main thread')
        alive = false
        void worker.terminate()
        listener()
        return
      }
      worker.postMessage({
        kind: 'classifier',
        file: classifier?.file ?? null,
      } satisfies AnalysisRequest)
    },
    onAnswers(next) {
      listener = next
    },
    async close() {
      alive = false
      await worker.terminate()
    },
  }
}

const UPCOMING = `select id, text, subject, language from messages
  where id > ? and triage = ? and direction = ? order by id limit ${2 * BATCH}`
