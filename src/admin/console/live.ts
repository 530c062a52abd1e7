import type { Request, Response } from 'express'
import type { Logger } from '../../kit/logger.js'
import type { Sql } from '../../store/sql.js'

/**
 * Live updates for the console's pages (server-sent events, no front-end build): while at
 * least one page listens, the hub reads a small fingerprint of the cases once a second — the
 * newest audit entry, ticket and message, and the last change among the newest effects — and
 * tells every page when it moves. Reading the database (not in-process hooks) means a change
 * made by any instance on a shared PostgreSQL, by the triage, the SLA clock or a person,
 * reaches every open page. The pages then fetch themselves and swap their live parts.
 */
export function liveCases(options: {
  db: Sql
  logger: Logger
  everyMs?: number
  /** Open streams at most; more are refused with 503 (each holds a connection). */
  maxStreams?: number
}) {
  const everyMs = options.everyMs ?? 1000
  const maxStreams = options.maxStreams ?? 200
  const streams = new Set<Response>()
  let version: string | null = null
  let timer: NodeJS.Timeout | null = null
  let reading = false
  let beats = 0

  const fingerprint = async (): Promise<string> => {
    const row = await options.db.get<Record<string, unknown>>(
      `select (select max(id) from audit_log) as a, (select max(id) from tickets) as t,
              (select max(id) from messages) as m,
              (select max(updated_at) from outbox
                where id > coalesce((select max(id) from outbox), 0) - 200) as o`,
    )
    return [row?.a, row?.t, row?.m, row?.o].map((v) => String(v ?? 0)).join('.')
  }

  const tick = async () => {
    if (reading) return
    reading = true
    try {
      const now = await fingerprint()
      if (version !== null && now !== version)
        for (const res of streams) res.write(`event: change\ndata: ${now}\n\n`)
      version = now
      // A comment now and then keeps proxies from closing a quiet stream.
      if (++beats % 25 === 0) for (const res of streams) res.write(': keep-alive\n\n')
    } catch (err) {
      options.logger.warn({ err }, 'live updates could not read the cases')
    } finally {
      reading = false
    }
  }

  const stop = (res: Response) => {
    streams.delete(res)
    if (streams.size === 0 && timer) {
      clearInterval(timer)
      timer = null
      version = null
    }
  }

  return {
    /** `GET /admin/events`: the stream, until the page goes away. */
    handle(req: Request, res: Response): void {
      if (streams.size >= maxStreams) {
        res.status(503).set('Retry-After', '30').type('text').send('too many live pages')
        return
      }
      res.status(200).set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no',
      })
      res.flushHeaders()
      res.write('retry: 3000\n\n')
      streams.add(res)
      req.on('close', () => stop(res))
      if (!timer) {
        timer = setInterval(() => void tick(), everyMs)
        timer.unref()
        void tick()
      }
    },
    /** Ends every stream (shutdown). */
    close(): void {
      for (const res of [...streams]) {
        res.end()
        stop(res)
      }
    },
  }
}
export type LiveCases = ReturnType<typeof liveCases>
