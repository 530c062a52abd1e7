import express, { type Response, Router } from 'express'
import { correctionLines } from '../learning/corrections.js'
import { requireBearer } from './auth.js'
import {
  type AdminApiDeps,
  type AdminService,
  adminService,
  type Outcome,
} from './service/index.js'
import { statusOf } from './service/kit.js'

export type { AdminApiDeps } from './service/index.js'

export function send(res: Response, result: Outcome<unknown>): void {
  res.status(statusOf(result))
  if ('body' in result) res.json(result.body)
  else res.json({ error: result.reason })
}

/**
 * The admin JSON API (`/api`, `Authorization: Bearer $ADMIN_TOKEN`): tickets, escalations with
 * their urgency, queues with their load, conversations with their decisions, the outbox,
 * channels. Each route is one call of the admin service; its outcome is the status.
 */
export function adminApi(deps: AdminApiDeps, service: AdminService = adminService(deps)): Router {
  const router = Router()
  router.use(requireBearer(deps.token))
  router.use(express.json({ limit: '100kb' }))

  const routes: ['get' | 'post', string, keyof AdminService][] = [
    ['get', '/tickets', 'listTickets'],
    ['get', '/tickets/:id', 'ticket'],
    ['post', '/tickets/:id/status', 'setStatus'],
    ['post', '/tickets/:id/assign', 'assign'],
    ['post', '/tickets/:id/escalate', 'escalate'],
    ['post', '/tickets/:id/reply', 'reply'],
    ['post', '/tickets/:id/note', 'note'],
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
    ['post', '/models/retrain', 'retrain'],
  ]
  // The corrections as JSON lines, for a download: the whole set, streamed in batches.
  router.get('/corrections', async (req, res, next) => {
    if (req.query.format !== 'jsonl') return next()
    try {
      res.type('application/x-ndjson')
      res.set('Content-Disposition', 'attachment; filename="centralita-corrections.jsonl"')
      for await (const line of correctionLines(deps.db)) res.write(`${line}\n`)
      res.end()
    } catch (err) {
      next(err)
    }
  })
  for (const [verb, path, name] of routes) {
    router[verb](path, async (req, res, next) => {
      try {
        const input = { params: req.params, query: req.query, body: req.body }
        send(res, await service[name](input))
      } catch (err) {
        next(err)
      }
    })
  }
  return router
}
