import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ADAPTERS } from '../adapters/registry.js'
import { replyTools } from './actions/reply-tools.js'
import { adminApi } from './admin/api.js'
import { requireBearer } from './admin/auth.js'
import { adminConsole } from './admin/console/console.js'
import { liveCases } from './admin/console/live.js'
import { createMetrics } from './admin/metrics.js'
import { adminService } from './admin/service/index.js'
import type { Config } from './config.js'
import {
  type AnyAdapter,
  type ChannelEntry,
  inboxSchemas,
  type Source,
} from './contracts/channel.js'
import { ConfigError } from './contracts/errors.js'
import { createApp } from './http/app.js'
import { readiness } from './http/readiness.js'
import { composeChannels, composeSources } from './hub-channels.js'
import { createAdmission } from './ingest/admission.js'
import { acceptDelivery } from './ingest/ingest.js'
import { type Clock, systemClock } from './kit/clock.js'
import type { Logger } from './kit/logger.js'
import type { Loop } from './kit/loop.js'
import { hubClassifier, watchActiveModel } from './learning/active-classifier.js'
import { feedbackContext } from './learning/channel-feedback.js'
import { hubRetraining } from './learning/run-retrain.js'
import { createDispatcher, type Dispatcher } from './outbox/dispatcher.js'
import { createSlaClock } from './sla/sla-clock.js'
import type { Db } from './store/db.js'
import { keepStatisticsFresh } from './store/fresh-statistics.js'
import { groupCommit } from './store/ingest-store.js'
import { openSqliteStore, type Store, sqliteOf } from './store/open-store.js'
import type { Signals, Topic } from './store/signals.js'
import type { Sql } from './store/sql.js'
import { loadRulebook, type Rulebook } from './triage/rulebook/compile.js'
import { type RulebookSource, watchRulebook } from './triage/rulebook/watch-rulebook.js'
import type { IntentClassifier } from './triage/triage.js'
import { startHousekeeping } from './worker/housekeeping.js'
import { startTextAnalyses } from './worker/text-analysis.js'
import { createTriageWorker } from './worker/triage-worker.js'

export type Hub = {
  config: Config
  /** The SQLite database itself (tests and tools read it directly); SQLite only. */
  db: Db
  /** The store's door to the database: what the hub's own code uses. */
  sql: Sql
  app: ReturnType<typeof createApp>
  channels: ReadonlyMap<string, ChannelEntry>
  worker: Loop
  dispatcher: Dispatcher
  sla: ReturnType<typeof createSlaClock>
  rulebook: () => Rulebook
  rules: RulebookSource
  /** The classifier in use (it changes when a model trained on corrections is adopted). */
  classifier: () => IntentClassifier | null
  /** Settles once the classifier is chosen (null before, from `classifier()`). */
  classifierReady: Promise<void>
  /** Inbound sources besides webhooks (SMTP receiver, IMAP poller). */
  sources: readonly Source[]
  /** Starts the HTTP server and the inbound sources; resolves with the HTTP address. */
  listen(): Promise<AddressInfo>
  /** Graceful shutdown: stop accepting, finish in-flight work, close the database. */
  stop(): Promise<void>
}

/**
 * On PostgreSQL, how long a triage lane waits before it claims again after a slice that
 * drained its part with few messages (`gatherMs`): at a steady pace each slice then triages
 * the messages of that while, not one.
 */
const TRIAGE_GATHER_MS = 20

export type HubOptions = {
  config: Config
  logger: Logger
  clock?: Clock
  /** The statistical classifier; by default trained (or read from cache) from the corpus. */
  classifier?: IntentClassifier | null
  /**
   * Work out the text analysis of queued messages on a thread of its own
   * (`src/worker/text-analysis.ts`). `centralita serve` does (built code only).
   */
  textAnalysisThread?: boolean
  /**
   * The database, open and migrated (`openStore`, as `centralita serve` does for PostgreSQL);
   * by default the SQLite file of the configuration, opened here.
   */
  store?: Store
  /** The channels the hub knows (the registry's; a test adds one the core never heard of). */
  adapters?: readonly AnyAdapter[]
}

export function createHub(options: HubOptions): Hub {
  const { config, logger } = options
  const clock = options.clock ?? systemClock
  const adapters = options.adapters ?? ADAPTERS
  const rules = watchRulebook(loadRulebook(config.rulesDir, inboxSchemas(adapters)), logger)
  const rulebook = () => rules.current()
  if (!options.store && config.database.engine !== 'sqlite')
    throw new ConfigError('DATABASE_URL: open (and migrate) a PostgreSQL store before the hub')
  const database = options.store ?? openSqliteStore(config.databasePath)
  const { sql } = database
  // Instances on one PostgreSQL wake each other (set once the loops exist, below).
  let signals: Signals | undefined
  const tell = (topic: Topic) => signals?.notify(topic)
  const db = sqliteOf(database)
  // The model trained on people's corrections when one was adopted, else the corpus's (read
  // before the first triage: the worker waits for it). With the text-analysis thread, this
  // thread reads the model only if it ever needs it.
  const analysisThread = Boolean(options.textAnalysisThread)
  const lazy = analysisThread
  let classifier: IntentClassifier | null = options.classifier ?? null
  let modelId = 0
  const classifierReady =
    options.classifier !== undefined
      ? Promise.resolve()
      : hubClassifier(sql, config.classifier, logger, { lazy }).then((chosen) => {
          classifier = chosen.classifier
          modelId = chosen.modelId
          analyses?.useClassifier(chosen.classifier)
        })

  const { channels, executors, state } = composeChannels({ adapters, config, sql, clock, logger })

  const metrics = createMetrics(
    sql,
    config.database.engine === 'postgres' ? config.instanceId : null,
  )
  // Every way in writes through one group commit (see groupCommit).
  const persist = groupCommit(
    sql,
    feedbackContext(
      rulebook,
      new Map(
        [...channels].flatMap(([id, { adapter }]) => (adapter.inbox ? [[id, adapter.inbox]] : [])),
      ),
    ),
  )
  const dispatcher = createDispatcher({
    db: sql,
    clock,
    logger: logger.child({ component: 'dispatcher' }),
    executors,
    leaseMs: config.outbox.leaseMs,
    onAttempt: metrics.attempt,
    concurrency: config.outbox.concurrency,
    backoff: { baseMs: config.outbox.retryBaseMs, maxMs: 15 * 60_000 },
  })
  const tools = replyTools(channels)
  // The thread is told the classifier once it is read (`useClassifier`).
  const analyses = analysisThread
    ? startTextAnalyses({ classifier: null, logger: logger.child({ component: 'text-analysis' }) })
    : undefined
  const worker = createTriageWorker({
    analyses,
    ready: classifierReady,
    db: sql,
    // On PostgreSQL webhooks commit beside a slice (on SQLite they wait for it: 2 ms slices).
    ...(sql.dialect === 'postgres'
      ? { sliceMs: 25, gatherMs: TRIAGE_GATHER_MS, lanes: config.triageLanes }
      : {}),
    clock,
    logger: logger.child({ component: 'triage' }),
    channels,
    rulebook,
    classifier: () => classifier,
    tools,
    onEffects: () => {
      dispatcher.wake()
      tell('outbox')
    },
    acknowledgementsWaiting: persist.waiting,
    // New cases only need the SLA clock to look again soon (their deadlines are ahead): at
    // most a few runs a second, however many messages are triaged.
    onTriaged: (triaged) => {
      metrics.triaged(triaged)
      sla.wakeAt(Date.now() + 250)
    },
  })
  analyses?.onAnswers(() => worker.wake())
  // A model adopted (or rolled back) by `centralita train`, the console or the schedule, here
  // or on another instance, is taken up within seconds.
  const modelWatch =
    options.classifier === undefined
      ? watchActiveModel({
          db: sql,
          source: config.classifier,
          logger: logger.child({ component: 'learning' }),
          lazy,
          current: () => modelId,
          onChange: (next) => {
            classifier = next.classifier
            modelId = next.modelId
            analyses?.useClassifier(next.classifier)
            logger.info({ model: next.modelId || 'corpus' }, 'classifier changed')
          },
        })
      : undefined
  const sla = createSlaClock({
    db: sql,
    clock,
    logger: logger.child({ component: 'sla' }),
    rulebook,
    channels,
    onEffects: () => {
      dispatcher.wake()
      tell('outbox')
    },
    onBreach: metrics.breach,
  })
  signals = database.signals?.(logger.child({ component: 'signals' }), (topic) => {
    if (topic === 'triage') worker.wake()
    else if (topic === 'outbox') dispatcher.wake()
    else sla.wake()
  })

  // Retraining on people's corrections (the console's button, the rulebook's schedule).
  const { retrainer: retrain, schedule: retrainSchedule } = hubRetraining({
    database: config.database,
    databasePath: config.databasePath,
    corpusDir: config.classifier.corpusDir,
    rulesDir: config.rulesDir,
    db: sql,
    rulebook,
    logger: logger.child({ component: 'learning' }),
    now: () => clock.now().getTime(),
  })

  // The console's live updates (server-sent events), ended first at shutdown.
  const live = liveCases({ db: sql, logger: logger.child({ component: 'console' }) })

  const housekeeping = startHousekeeping({ sql, clock, logger, retention: config.retention })
  const statistics = keepStatisticsFresh({ sql, logger: logger.child({ component: 'statistics' }) })

  const { admit, behind, onStored } = createAdmission({
    sql,
    logger,
    webhookRate: config.limits.webhookRate,
    pendingTriage: config.limits.pendingTriage,
    onQueued: () => {
      worker.wake()
      tell('triage')
    },
    onOverBound: metrics.storedOverBound,
  })

  // Inbound sources that are not webhooks (SMTP receiver, IMAP poller), started by listen().
  const sources = composeSources({
    channels,
    state,
    logger,
    rulebook,
    busy: behind,
    now: () => clock.now(),
    accept: (id, delivery) => acceptDelivery({ db: sql, clock, persist, onStored }, id, delivery),
  })

  const adminToken = config.adminToken
  const app = createApp({
    admit,
    maxInflight: config.limits.webhookInflight,
    maxInflightPerAddress: config.limits.webhookInflightPerAddress,
    bodyIdleMs: config.http.bodyIdleMs,
    trustProxy: config.trustProxy,
    // Unknown channel names in URLs are counted together: labels stay bounded.
    observe: (channel, outcome) =>
      metrics.webhook(channels.has(channel) ? channel : 'unknown', outcome),
    // Without ADMIN_TOKEN there is no admin surface at all: no API, no console.
    mount: adminToken
      ? (express) => {
          const adminDeps = {
            db: sql,
            clock,
            logger: logger.child({ component: 'admin' }),
            token: adminToken,
            rulebook,
            channels,
            tools,
            sources,
            onEffects: () => {
              dispatcher.wake()
              tell('outbox')
            },
            onCasesChanged: () => {
              sla.wake()
              tell('cases')
            },
            ...(retrain ? { retrainer: retrain } : {}),
          }
          const service = adminService(adminDeps)
          express.use('/api', adminApi(adminDeps, service))
          express.use(
            '/admin',
            adminConsole({
              db: sql,
              clock,
              logger: logger.child({ component: 'console' }),
              token: adminToken,
              service,
              rules,
              classifier: () => classifier,
              sources,
              live,
            }),
          )
        }
      : undefined,
    // Prometheus text; counts and timings only, never contents. Behind METRICS_TOKEN when set.
    metrics: {
      ...(config.metricsToken ? { guard: requireBearer(config.metricsToken) } : {}),
      render: async () => ({
        type: metrics.registry.contentType,
        body: await metrics.registry.metrics(),
      }),
    },
    logger,
    ingest: { db: sql, channels, clock, logger, persist, onStored },
    bodyLimit: (channel) =>
      channels.get(channel)?.adapter.body === 'mime'
        ? config.limits.mimeBody
        : config.limits.webhookBody,
    readiness: () =>
      readiness({ sql, config, loops: { triage: worker, dispatcher, sla }, sources }),
  })

  let server: Server | null = null
  let stopping: Promise<void> | null = null
  return {
    config,
    db,
    sql,
    app,
    channels,
    worker,
    dispatcher,
    sla,
    rulebook,
    rules,
    classifier: () => classifier,
    classifierReady,
    sources,
    listen: async () => {
      const address = await new Promise<AddressInfo>((resolve, reject) => {
        server = createServer(
          {
            headersTimeout: config.http.headersTimeoutMs,
            requestTimeout: config.http.requestTimeoutMs,
            // How often those two are checked (Node's default is every 30 s).
            connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs / 2),
          },
          app,
        )
        server.keepAliveTimeout = 5000
        server.once('error', reject)
        server.listen(config.port, config.host, () => resolve(server!.address() as AddressInfo))
      })
      for (const source of sources) await source.start()
      return address
    },
    stop: () => {
      stopping ??= (async () => {
        live.close()
        if (server) {
          const closed = new Promise<void>((resolve) => server!.close(() => resolve()))
          server.closeIdleConnections()
          const grace = setTimeout(() => server?.closeAllConnections(), config.shutdownGraceMs)
          await closed
          clearTimeout(grace)
        }
        for (const source of sources) await source.stop()
        rules.close()
        await worker.stop()
        await analyses?.close()
        await sla.stop()
        await dispatcher.stop()
        await housekeeping.stop()
        await statistics?.stop()
        await modelWatch?.stop()
        await retrainSchedule?.stop()
        await signals?.close()
        await database.close()
      })()
      return stopping
    },
  }
}
