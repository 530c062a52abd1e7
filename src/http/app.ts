import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import type { IngestDeps } from '../ingest/ingest.js'
import type { Logger } from '../kit/logger.js'
import { type WebhookRouteOptions, webhookChannel, webhookRoute } from './webhook-route.js'

export type Readiness = () => Promise<{ ready: boolean; checks: Record<string, string> }>

export type AppDeps = {
  ingest: IngestDeps
  logger: Logger
  bodyLimit: (channel: string) => number
  readiness: Readiness
  /** Admission of webhook requests (rate limits, backpressure); see webhookRoute. */
  admit?: WebhookRouteOptions['admit']
  maxInflight?: number
  maxInflightPerAddress?: number
  bodyIdleMs?: number
  observe?: WebhookRouteOptions['observe']
  /** Reverse proxies in front of the hub (client addresses from X-Forwarded-For). */
  trustProxy?: number
  /** Extra routers mounted before the error handler (admin API, console). */
  mount?: (app: Express) => void
  /** `GET /metrics`: the exposition, and an optional guard (bearer token) in front of it. */
  metrics?: { guard?: RequestHandler; render: () => Promise<{ type: string; body: string }> }
}

/**
 * The HTTP surface of the hub, as a `node:http` request listener (no `listen()` here, so tests
 * drive it in-process). `/webhooks/:channel` is served directly (webhook-route.ts says why);
 * every other route goes through express.
 */
export function createApp(deps: AppDeps): RequestListener {
  const webhook = webhookRoute({
    deps: deps.ingest,
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    ...(deps.admit ? { admit: deps.admit } : {}),
    ...(deps.maxInflight ? { maxInflight: deps.maxInflight } : {}),
    ...(deps.maxInflightPerAddress ? { maxInflightPerAddress: deps.maxInflightPerAddress } : {}),
    ...(deps.bodyIdleMs ? { bodyIdleMs: deps.bodyIdleMs } : {}),
    ...(deps.observe ? { observe: deps.observe } : {}),
    ...(deps.trustProxy ? { trustProxy: deps.trustProxy } : {}),
  })
  const app = expressApp(deps)
  return (req: IncomingMessage, res: ServerResponse) => {
    const channel = webhookChannel(req.url ?? '/')
    if (channel === null) app(req, res)
    else void webhook(req, res, channel)
  }
}

function expressApp(deps: AppDeps): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  // A number of hops: express then reads X-Forwarded-For from the right, as the webhooks do.
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy)

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness()
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks })
  })
  const metrics = deps.metrics
  if (metrics) {
    const guard: RequestHandler = metrics.guard ?? ((_req, _res, next) => next())
    app.get('/metrics', guard, async (_req, res) => {
      const { type, body } = await metrics.render()
      res.type(type).send(body)
    })
  }
  deps.mount?.(app)

  const notFound: RequestHandler = (_req, res) => {
    res.status(404).json({ error: 'not_found' })
  }
  app.use(notFound)
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status =
      typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500
    if (status === 500) deps.logger.error({ err }, 'request failed')
    res
      .status(status)
      .json({ error: status === 500 ? 'internal_error' : (err.type ?? 'bad_request') })
  }
  app.use(onError)
  return app
}
