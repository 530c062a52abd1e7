import { Worker } from 'node:worker_threads'
import type { Logger } from '../kit/logger.js'
import type { Sql } from '../store/sql.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { allTerms, type RulebookSource } from '../triage/rulebook/schema.js'
import type { IntentClassifier, TextAnalysis, TextInput } from '../triage/triage.js'

/**
 * Text analyses worked out ahead, on a thread of their own. The triage worker asks for the
 * messages it will reach next (on SQLite those past its cursor, on PostgreSQL each read of
 * the part a slice claimed) and takes each one's analysis when it gets there, or works it
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
  /** Has the thread compile these rules, when it has not (before the first message comes). */
  useRules(rulebook: Rulebook): void
  /**
   * Asks for the analyses of these messages now (PostgreSQL: a slice's read of the part it
   * claimed, which no other slice triages while it holds the part). Those asked for already
   * are not asked again.
   */
  analyse(items: readonly (TextInput & { id: number })[], rulebook: Rulebook): void
  /**
   * Like `take`, but waits while the thread works on the message (at most until `waitMs`
   * after it was asked for): the analysis, or undefined when the caller should work it out.
   */
  awaitAnalysis(
    messageId: number,
    rulebook: Rulebook,
    classifier: IntentClassifier | null,
  ): Promise<TextAnalysis | undefined>
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
/**
 * Analyses come back and are never taken when a slice ends before it reaches them and another
 * instance triages them (PostgreSQL): the oldest are dropped past this many.
 */
const KEPT = 4 * AHEAD
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
  /** Who waits for a message's answer (`awaitAnalysis`). */
  const waiters = new Map<number, () => void>()
  let listener = () => {}
  let asked = 0
  let last = 0
  let rulesSent: string | null = null
  let alive = true
  const answered = (id: number) => {
    const waiter = waiters.get(id)
    if (waiter) waiter()
  }
  const stopped = () => {
    alive = false
    for (const waiter of [...waiters.values()]) waiter()
  }
  worker.on('message', (results: { id: number; analysis: TextAnalysis | null }[] | Ready) => {
    if (!Array.isArray(results)) {
      options.logger.info({ rulebook: results.ready }, 'text analysis thread ready')
      return
    }
    for (const { id, analysis } of results) {
      inFlight.delete(id)
      if (analysis) ready.set(id, analysis)
      else asked--
      answered(id)
    }
    listener()
  })
  worker.on('error', (err) => {
    options.logger.error({ err }, 'text analysis thread failed: triage does it on the main thread')
    // Messages waiting for it go on at once.
    stopped()
    listener()
  })
  worker.on('exit', stopped)
  const sendRules = (rulebook: Rulebook) => {
    if (rulesSent === rulebook.version) return
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
  const take: TextAnalyses['take'] = (messageId, rulebook, classifier) => {
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
  }
  return {
    async prefetch(db, after, rulebook) {
      if (!alive) return
      sendRules(rulebook)
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
    take,
    useRules(rulebook) {
      if (alive) sendRules(rulebook)
    },
    analyse(items, rulebook) {
      if (!alive) return
      sendRules(rulebook)
      const fresh = items.filter(({ id }) => !ready.has(id) && !inFlight.has(id))
      // A thread that stopped answering is asked for no more than this: the caller works
      // the rest out itself.
      if (fresh.length === 0 || inFlight.size + fresh.length > AHEAD) return
      const at = Date.now()
      for (const { id } of fresh) inFlight.set(id, at)
      asked += fresh.length
      worker.postMessage({ kind: 'analyze', items: fresh } satisfies AnalysisRequest)
      // Those never taken, oldest first (a map keeps the order of insertion).
      for (const id of ready.keys()) {
        if (ready.size <= KEPT) break
        ready.delete(id)
        asked--
      }
    },
    async awaitAnalysis(messageId, rulebook, classifier) {
      const since = inFlight.get(messageId)
      if (alive && since !== undefined)
        await new Promise<void>((resolve) => {
          // One slice at a time holds a message's part, but a second waiter must not
          // leave the first to its timer.
          const before = waiters.get(messageId)
          const done = () => {
            clearTimeout(timer)
            if (waiters.get(messageId) === done) waiters.delete(messageId)
            before?.()
            resolve()
          }
          const timer = setTimeout(done, since + waitMs - Date.now())
          waiters.set(messageId, done)
        })
      const analysis = take(messageId, rulebook, classifier)
      return analysis === 'waiting' ? undefined : analysis
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
