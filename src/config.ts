import { hostname } from 'node:os'
import { z } from 'zod'
import type { AnyAdapter, ChannelSettings } from './contracts/channel.js'
import { ConfigError } from './contracts/errors.js'
import { ByteSize } from './kit/byte-size.js'

const Port = z.coerce.number().int().min(0).max(65535)

/** Variables of the hub itself (channels bring their own, see each adapter's `env`). */
export const CoreEnv = {
  PORT: Port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().default('file:data/centralita.db'),
  /** This instance's name among several on one PostgreSQL (`/readyz`, `/metrics`). */
  INSTANCE_ID: z.string().min(1).max(100).optional(),
  /** Connections each instance keeps to PostgreSQL (unused on SQLite). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /**
   * Triage slices each instance runs side by side on PostgreSQL, each on a part of the queue
   * (SQLite: one). Each holds a connection, and takes a second one for a moment to number a
   * ticket: the pool needs room for twice as many, and for the webhooks and the outbox.
   * Unset: two, or one when the pool is smaller than six.
   */
  TRIAGE_LANES: z.coerce.number().int().min(1).max(8).optional(),
  RULES_DIR: z.string().default('rules'),
  CORPUS_DIR: z.string().default('data/corpus'),
  MODEL_CACHE_DIR: z.string().default('data/model'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Bearer token Prometheus sends for `GET /metrics`; without it the metrics are open. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEBHOOK_BODY_LIMIT: ByteSize.default(1024 * 1024),
  MIME_BODY_LIMIT: ByteSize.default(25 * 1024 * 1024),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Webhook requests per second allowed from one address to one channel (burst: twice that). */
  WEBHOOK_RATE_LIMIT: z.coerce.number().min(1).default(200),
  /** Webhook requests being handled at once; more are answered 503 at once. */
  WEBHOOK_MAX_INFLIGHT: z.coerce.number().int().min(1).default(256),
  /** Of those, at most this many from one address (one address cannot take every slot). */
  WEBHOOK_MAX_INFLIGHT_PER_ADDRESS: z.coerce.number().int().min(1).default(64),
  /** Longest wait for a request's headers, for a whole request, and between two pieces of a body. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  HTTP_BODY_IDLE_MS: z.coerce.number().int().min(100).default(10_000),
  /** Triage jobs waiting; past this, webhooks are answered 503 (retry later) until it drains. */
  MAX_PENDING_TRIAGE: z.coerce.number().int().min(1).default(20_000),
  /** How long one outbound HTTP call (Chatwoot, Graph API, callbacks) may take. */
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * How long an outbox action being run belongs to that run. After a crash, an action that was
   * in flight is retried once this has passed: by then an upstream's own record of the send (a
   * WhatsApp status callback, Chatwoot's message list) tells the retry it already went out.
   */
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  /** First retry delay of a failed outbound action; each retry doubles it (with jitter). */
  OUTBOX_RETRY_BASE_MS: z.coerce.number().int().min(10).default(2000),
  /** Outbound actions run at the same time. */
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(64),
  /** Days a webhook delivery id is remembered for dedupe (at least the senders' retry horizon). */
  WEBHOOK_DEDUPE_DAYS: z.coerce.number().min(1).default(8),
  /** Days finished triage retries (jobs) are kept before the hourly sweep deletes them. */
  JOB_RETENTION_DAYS: z.coerce.number().min(1).default(7),
  /**
   * Behind reverse proxies: how many of them (true = 1). The client address is the entry of
   * X-Forwarded-For that the outermost of them added, counted from the right; entries further
   * left were written by the client and are never trusted.
   */
  TRUST_PROXY: z
    .union([z.stringbool(), z.coerce.number().int().min(0).max(10)])
    .default(false)
    .transform((value) => (value === true ? 1 : value === false ? 0 : value)),
}

export type Config = {
  port: number
  host: string
  database: DatabaseTarget
  /** The SQLite file, when the database is SQLite (empty on PostgreSQL). */
  databasePath: string
  databasePoolSize: number
  /** Triage slices run side by side on PostgreSQL (`TRIAGE_LANES`). */
  triageLanes: number
  instanceId: string
  rulesDir: string
  /** Training corpus of the classifier, and where the trained model is cached. */
  classifier: { corpusDir: string; cacheDir: string }
  adminToken: string | undefined
  metricsToken: string | undefined
  logLevel: string
  limits: {
    webhookBody: number
    mimeBody: number
    /** Per second, per channel and sending address. */
    webhookRate: number
    webhookInflight: number
    webhookInflightPerAddress: number
    pendingTriage: number
  }
  http: { headersTimeoutMs: number; requestTimeoutMs: number; bodyIdleMs: number }
  /** Reverse proxies in front of the hub (0: none); see TRUST_PROXY. */
  trustProxy: number
  outboundTimeoutMs: number
  outbox: { leaseMs: number; retryBaseMs: number; concurrency: number }
  retention: { deliveriesMs: number; jobsMs: number }
  shutdownGraceMs: number
  /** Every registered channel's settings, enabled or with the reason it is not. */
  channels: Map<string, ChannelSettings<unknown>>
}

/** Where the hub keeps its data: a SQLite file (the default) or a PostgreSQL database. */
export type DatabaseTarget =
  | { engine: 'sqlite'; path: string }
  | { engine: 'postgres'; url: string }

/**
 * Reads `DATABASE_URL`: `postgres://…` or `postgresql://…` for PostgreSQL; `file:<path>`, a bare
 * path, or `:memory:` for SQLite.
 */
export function databaseFrom(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { engine: 'postgres', url }
  if (url === ':memory:' || url === 'file::memory:') return { engine: 'sqlite', path: ':memory:' }
  return { engine: 'sqlite', path: url.startsWith('file:') ? url.slice('file:'.length) : url }
}

/** The SQLite file of `DATABASE_URL` (empty for PostgreSQL). */
export function databasePathFrom(url: string): string {
  const target = databaseFrom(url)
  return target.engine === 'sqlite' ? target.path : ''
}

/** Blank variables count as unset (`FOO=` in a compose file means "no value"). */
function withoutBlanks(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') out[key] = value
  }
  return out
}

/**
 * Parses the environment once, at boot. Every problem is reported together, each line naming
 * its variable, so one failed start tells the operator everything to fix.
 */
export function loadConfig(
  rawEnv: Record<string, string | undefined>,
  adapters: readonly AnyAdapter[],
): Config {
  let shape: z.ZodRawShape = { ...CoreEnv }
  for (const adapter of adapters) shape = { ...shape, ...adapter.env }
  const parsed = z.object(shape).safeParse(withoutBlanks(rawEnv))
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const env = parsed.data as Record<string, unknown> & z.infer<z.ZodObject<typeof CoreEnv>>
  const roomForLanes = Math.max(1, Math.floor((env.DATABASE_POOL_SIZE - 2) / 2))
  if (env.TRIAGE_LANES !== undefined && env.TRIAGE_LANES > roomForLanes) {
    throw new ConfigError(
      `invalid configuration:\n  TRIAGE_LANES: at most (DATABASE_POOL_SIZE - 2) / 2 (${roomForLanes})`,
    )
  }
  // An action makes up to three upstream calls; its lease must outlast them all.
  if (env.OUTBOX_LEASE_MS < 3 * env.OUTBOUND_TIMEOUT_MS) {
    throw new ConfigError(
      `invalid configuration:\n  OUTBOX_LEASE_MS: must be at least 3 × OUTBOUND_TIMEOUT_MS (${3 * env.OUTBOUND_TIMEOUT_MS})`,
    )
  }
  const channels = new Map<string, ChannelSettings<unknown>>()
  for (const adapter of adapters) channels.set(adapter.id, adapter.configure(env))
  return {
    port: env.PORT,
    host: env.HOST,
    database: databaseFrom(env.DATABASE_URL),
    databasePath: databasePathFrom(env.DATABASE_URL),
    databasePoolSize: env.DATABASE_POOL_SIZE,
    triageLanes: env.TRIAGE_LANES ?? Math.min(2, roomForLanes),
    instanceId: env.INSTANCE_ID ?? `${hostname()}:${env.PORT}`,
    rulesDir: env.RULES_DIR,
    classifier: { corpusDir: env.CORPUS_DIR, cacheDir: env.MODEL_CACHE_DIR },
    adminToken: env.ADMIN_TOKEN,
    metricsToken: env.METRICS_TOKEN,
    logLevel: env.LOG_LEVEL,
    limits: {
      webhookBody: env.WEBHOOK_BODY_LIMIT,
      mimeBody: env.MIME_BODY_LIMIT,
      webhookRate: env.WEBHOOK_RATE_LIMIT,
      webhookInflight: env.WEBHOOK_MAX_INFLIGHT,
      webhookInflightPerAddress: env.WEBHOOK_MAX_INFLIGHT_PER_ADDRESS,
      pendingTriage: env.MAX_PENDING_TRIAGE,
    },
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      bodyIdleMs: env.HTTP_BODY_IDLE_MS,
    },
    trustProxy: env.TRUST_PROXY,
    outboundTimeoutMs: env.OUTBOUND_TIMEOUT_MS,
    retention: {
      deliveriesMs: env.WEBHOOK_DEDUPE_DAYS * 86_400_000,
      jobsMs: env.JOB_RETENTION_DAYS * 86_400_000,
    },
    outbox: {
      leaseMs: env.OUTBOX_LEASE_MS,
      retryBaseMs: env.OUTBOX_RETRY_BASE_MS,
      concurrency: env.OUTBOX_CONCURRENCY,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    channels,
  }
}
