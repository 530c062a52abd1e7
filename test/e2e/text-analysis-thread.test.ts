import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/kit/logger.js'
import { openStore, type Store } from '../../src/store/open-store.js'
import { loadClassifier } from '../../src/triage/classifier/load-classifier.js'
import { loadRulebook } from '../../src/triage/rulebook/compile.js'
import { triage } from '../../src/triage/triage.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR, tempDir } from '../helpers/hub.js'
import { startPostgres, type TestPostgres } from '../helpers/postgres.js'
import { type ServeProcess, startServe } from '../helpers/process.js'
import { describeWithService } from '../helpers/services.js'
import { waitFor } from '../helpers/wait.js'

// `centralita serve` works out the text analysis of queued messages on a thread of its own
// (`src/worker/text-analysis.ts`): on SQLite ahead of the triage cursor, on PostgreSQL a read
// of a claimed part at a time. Under a burst the triage worker takes the thread's analyses;
// what it decides must be what the main thread alone would have decided.

const TEXTS = [
  'Hola, me llegó un cobro duplicado en la tarjeta',
  '¿A qué hora abren los sábados?',
  'Necesito un presupuesto para lavar 12 camionetas',
  'Pésima atención, nadie me responde hace una semana',
  'Do you take card payments?',
  'We would like to buy the yearly plan for our team',
  'Los voy a demandar si no me devuelven la plata',
  'rayaron mi auto en el lavado',
]
const MESSAGES = 240

describe('the text-analysis thread of centralita serve (SQLite)', () => {
  const temp = tempDir('centralita-analysis-')
  const dbPath = join(temp.dir, 'centralita.db')
  decidesAsTheMainThread(() => `file:${dbPath}`, temp.cleanup)
})

describeWithService('postgres', 'the text-analysis thread of centralita serve', () => {
  let postgres: TestPostgres
  beforeAll(async () => {
    postgres = await startPostgres()
  }, 60_000)
  decidesAsTheMainThread(
    () => postgres.database(),
    () => postgres?.stop(),
  )
})

function decidesAsTheMainThread(database: () => string, cleanup: () => void) {
  let serve: ServeProcess
  let store: Store
  beforeAll(async () => {
    const url = database()
    serve = await startServe({
      DATABASE_URL: url,
      RULES_DIR,
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      WEBHOOK_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'info',
    })
    store = await openStore(
      url.startsWith('file:')
        ? { engine: 'sqlite', path: url.slice('file:'.length) }
        : { engine: 'postgres', url },
    )
  }, 60_000)
  afterAll(async () => {
    serve.child.kill('SIGTERM')
    await serve.exited
    await store?.close()
    cleanup()
  })

  it('takes queued messages off the main thread, and decides them as the main thread does', async () => {
    await waitFor(() => serve.output().includes('text analysis thread ready'), {
      timeoutMs: 20_000,
      what: 'the analysis thread',
    })
    // A burst, 16 at a time: triage falls behind the acknowledgements, so it has a queue.
    const send = deliver(serve.base)
    let next = 0
    const sender = async () => {
      while (next < MESSAGES) {
        const i = next++
        const res = await send.chatwoot(
          payloads.chatwoot(7000 + i, 500 + (i % 40), `${TEXTS[i % TEXTS.length]} (${i})`, {
            id: 900 + (i % 40),
            name: 'Cliente',
          }),
          `thread-${i}`,
        )
        expect(res.status).toBe(200)
      }
    }
    await Promise.all(Array.from({ length: 16 }, sender))

    await waitFor(
      async () => {
        const row = await store.sql.get<{ n: number | string }>(
          'select count(*) as n from triage_decisions',
        )
        return Number(row?.n) === MESSAGES
      },
      { timeoutMs: 30_000, what: 'triage' },
    )
    const metrics = await (await fetch(`${serve.base}/metrics`)).text()
    const counted = (where: string) =>
      Number(
        new RegExp(
          `^centralita_text_analyses_total\\{[^}]*where="${where}"[^}]*\\} (\\d+)`,
          'm',
        ).exec(metrics)?.[1] ?? Number.NaN,
      )
    expect(counted('thread') + counted('main')).toBe(MESSAGES)
    // On PostgreSQL a slice asks for each read's analyses before it triages them: all but
    // a slice run again after a failure come from the thread.
    expect(counted('thread')).toBeGreaterThan(store.sqlite ? 0 : MESSAGES * 0.9)

    // What the text says, as the decisions recorded it, against triage in this process.
    const rulebook = loadRulebook(RULES_DIR)
    const classifier = loadClassifier(
      { corpusDir: 'data/corpus', cacheDir: 'data/model' },
      silentLogger,
    )
    const rows = await store.sql.all<{
      text: string
      intent: string
      language: string
      amount: number | null
      explanation: string
    }>(
      `select m.text, d.intent, d.language, d.amount, d.explanation
           from triage_decisions d join messages m on m.id = d.message_id`,
    )
    expect(rows).toHaveLength(MESSAGES)
    for (const row of rows) {
      const alone = triage({ text: row.text, channel: 'chatwoot' }, rulebook, classifier)
      const recorded = JSON.parse(row.explanation)
      expect({ intent: row.intent, language: row.language, amount: row.amount }).toEqual({
        intent: alone.intent,
        language: alone.language,
        amount: alone.amount,
      })
      for (const field of [
        'language',
        'hits',
        'classifierSignals',
        'ruleScores',
        'classifier',
        'combined',
        'intentReason',
        'faq',
        'amounts',
      ] as const) {
        expect(recorded[field]).toEqual(alone.explanation[field])
      }
    }
  }, 60_000)
}
