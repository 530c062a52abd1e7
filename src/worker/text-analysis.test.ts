import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RULES_DIR, tempDir } from '../../test/helpers/hub.js'
import { waitFor } from '../../test/helpers/wait.js'
import { silentLogger } from '../kit/logger.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from '../store/db.js'
import { persistDelivery } from '../store/ingest-store.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { loadRulebook, type Rulebook } from '../triage/rulebook/compile.js'
import type { IntentClassifier } from '../triage/triage.js'
import { startTextAnalyses, type TextAnalyses } from './text-analysis.js'

// The thread itself runs from the built code (`test/e2e/text-analysis-thread.test.ts` drives it
// through `centralita serve`); here, threads that fail or never answer: triage must not wait
// on them.

let rulebook: Rulebook
let classifier: IntentClassifier
beforeAll(() => {
  rulebook = loadRulebook(RULES_DIR)
  classifier = loadClassifier({ corpusDir: 'data/corpus', cacheDir: 'data/model' }, silentLogger)
})

const script = (code: string) => new URL(`data:text/javascript,${encodeURIComponent(code)}`)

async function storeMessage(db: Db, n: number) {
  const now = new Date()
  await persistDelivery(
    sqlOf(db),
    {
      channel: 'chatwoot',
      deliveryId: `d-${n}`,
      rawHash: `h-${n}`,
      events: [],
      messages: [
        {
          channel: 'chatwoot',
          externalId: `1:${n}`,
          conversationExternalId: '1:10',
          contactExternalId: '1:40',
          direction: 'inbound',
          authorRole: 'customer',
          text: 'me cobraron dos veces',
          language: null,
          attachments: [],
          sentAt: now.toISOString(),
          receivedAt: now.toISOString(),
          rawHash: `h-${n}`,
          contact: {},
          triage: true,
          automated: false,
          meta: {},
        },
      ],
    },
    now,
  )
}

describe('text analyses ahead', () => {
  const temp = tempDir()
  let db: Db
  let analyses: TextAnalyses | undefined
  afterEach(async () => {
    await analyses?.close()
    if (db) closeDatabase(db)
  })

  it('are not waited for when the thread cannot start', async () => {
    db = openDatabase(join(temp.dir, 'a.db'))
    await storeMessage(db, 1)
    const errors: string[] = []
    const logger = Object.assign(Object.create(silentLogger), {
      error: (_: unknown, message: string) => errors.push(message),
    })
    analyses = startTextAnalyses({
      classifier,
      logger,
      script: script('throw new Error("no thread today")'),
    })!
    await analyses.prefetch(sqlOf(db), 0, rulebook)
    await waitFor(() => errors.length > 0, { what: 'the thread to fail' })
    expect(errors).toEqual(['text analysis thread failed: triage does it on the main thread'])
    expect(analyses.take(1, rulebook, classifier)).toBeUndefined()
  })

  it('are waited for a bounded time when the thread does not answer', async () => {
    db = openDatabase(join(temp.dir, 'b.db'))
    await storeMessage(db, 1)
    analyses = startTextAnalyses({
      classifier,
      logger: silentLogger,
      script: script('setInterval(() => {}, 1000)'),
      waitMs: 300,
    })!
    await analyses.prefetch(sqlOf(db), 0, rulebook)
    expect(analyses.take(1, rulebook, classifier)).toBe('waiting')
    // Never asked for (a retry, or past what was asked): worked out by the caller.
    expect(analyses.take(2, rulebook, classifier)).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(analyses.take(1, rulebook, classifier)).toBeUndefined()
  })

  it('asked for a read at a time are waited for until the thread answers, fails or is late', async () => {
    const read = [{ id: 1, text: 'me cobraron dos veces', subject: null, language: null }]
    // A thread that never answers: the wait ends `waitMs` after the read was asked for.
    analyses = startTextAnalyses({
      classifier,
      logger: silentLogger,
      script: script('setInterval(() => {}, 1000)'),
      waitMs: 300,
    })!
    analyses.analyse(read, rulebook)
    const asked = Date.now()
    expect(await analyses.awaitAnalysis(1, rulebook, classifier)).toBeUndefined()
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290)
    // Never asked for: no wait at all.
    expect(await analyses.awaitAnalysis(2, rulebook, classifier)).toBeUndefined()
    await analyses.close()

    // A thread that fails while the slice waits: the wait ends then, long before `waitMs`.
    analyses = startTextAnalyses({
      classifier,
      logger: silentLogger,
      script: script(
        'import { parentPort } from "node:worker_threads"; parentPort.on("message", (m) => { if (m.kind === "analyze") setTimeout(() => { throw new Error("gone") }, 200) })',
      ),
      waitMs: 60_000,
    })!
    analyses.analyse(read, rulebook)
    const failing = Date.now()
    expect(await analyses.awaitAnalysis(1, rulebook, classifier)).toBeUndefined()
    expect(Date.now() - failing).toBeGreaterThanOrEqual(150)
    expect(Date.now() - failing).toBeLessThan(10_000)
  })

  it('end every wait for a message when its answer comes', async () => {
    // A thread that answers each request after 200 ms, without an analysis.
    analyses = startTextAnalyses({
      classifier,
      logger: silentLogger,
      script: script(
        'import { parentPort } from "node:worker_threads"; parentPort.on("message", (m) => { if (m.kind === "analyze") setTimeout(() => parentPort.postMessage(m.items.map((i) => ({ id: i.id, analysis: null }))), 200) })',
      ),
      waitMs: 60_000,
    })!
    analyses.analyse([{ id: 1, text: 'hola', subject: null, language: null }], rulebook)
    const asked = Date.now()
    const waits = [1, 1].map(() => analyses!.awaitAnalysis(1, rulebook, classifier))
    expect(await Promise.all(waits)).toEqual([undefined, undefined])
    expect(Date.now() - asked).toBeLessThan(10_000)
  })

  it('need a classifier the thread can read from its file', () => {
    const warnings: string[] = []
    const logger = Object.assign(Object.create(silentLogger), {
      warn: (message: string) => warnings.push(message),
    })
    const { file: _, ...inMemory } = classifier
    expect(startTextAnalyses({ classifier: inMemory, logger })).toBeUndefined()
    expect(warnings).toEqual([
      'the classifier has no cache file: text analysis stays on the main thread',
    ])
  })
})
