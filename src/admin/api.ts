import express, { type NextFunction, type Request, type Response, Router } from 'express'
import { correctionLines } from '../learning/corrections.js'
import { requireBearer } from './auth.js'
import { type AdminApiDeps, type AdminService, adminService, HttpError } from './service.js'

export type { AdminApiDeps } from './service.js'

/**
 * The admin JSON API (`/api`, `Authorization: Bearer $ADMIN_TOKEN`): tickets, escalations with
 * their urgency, queues with their load, conversations with their decisions, the outbox,
 * channels. Each route is one call of the admin service.
 */
export function adminApi(deps: AdminApiDeps, service: AdminService = adminService(deps)): Router {
  const router = Router()
  router.use(requireBearer(deps.token))
  router.use(express.json({ limit: '100kb' }))

  const routes: ['get' | 'post', string, keyof AdminService, number?][] = [
    ['get', '/tickets', 'listTickets'],
    ['get', '/tickets/:id', 'ticket'],
    ['post', '/tickets/:id/status', 'setStatus'],
    ['post', '/tickets/:id/assign', 'assign'],
    ['post', '/tickets/:id/escalate', 'escalate', 201],
    ['get', '/escalations', 'escalations'],
    ['post', '/escalations/:id/accept', 'acceptEscalation'],
    ['post', '/escalations/:id/resolve', 'resolveEscalation'],
    ['get', '/queues', 'queues'],
    ['get', '/conversations', 'conversations'],
    ['get', '/conversations/:id', 'conversation'],
    ['get', '/outbox', 'outbox'],
    ['get', '/outbox/:id', 'effect'],
    ['post', '/outbox/:id/replay', 'replay'],
    ['get', '/channels', 'channels'],
    ['get', '/relays', 'relays'],
    ['post', '/decisions/:id/correct', 'correct'],
    ['get', '/corrections', 'corrections'],
    ['get', '/models', 'models'],
    ['post', '/models/rollback', 'rollback'],
    ['post', '/models/retrain', 'retrain', 202],
  ]
  // The corrections as JSON lines, for a download: the whole set, streamed in batches.
  router.get('/corrections', (req, res, next) => {
    if (req.query.format !== 'jsonl') return next()
    res.type('application/x-ndjson')
    res.set('Content-Disposition', 'attachment; filename="centralita-corrections.jsonl"')
    for (const line of correctionLines(deps.db)) res.write(`${line}\n`)
    res.end()
  })
  for (const [verb, path, name, status] of routes) {
    router[verb](path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const body = await service[name]({ params: req.params, query: req.query, body: req.body })
        res.status(status ?? 200).json(body)
      } catch (err) {
        if (err instanceof HttpError) res.status(err.status).json({ error: err.message })
        else next(err)
      }
    })
  }
  return router
}
