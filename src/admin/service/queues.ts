import { OPEN_TICKET } from '../../cases/case-rules.js'
import { list } from '../../store/sql.js'
import { type AdminApiDeps, ok, type ServiceInput } from './kit.js'

type Load = {
  queue: string
  priority: string
  open: number
  unanswered: number
  oldestWaiting: number | null
}

/** The rulebook's queues with their load: open and unanswered tickets, the longest wait. */
export function queueService(deps: AdminApiDeps) {
  return {
    async queues(_req?: ServiceInput) {
      const at = deps.clock.now().getTime()
      const rows = await deps.db.all<Load>(
        `select queue, priority, count(*) as open,
                sum(case when first_response_at is null then 1 else 0 end) as unanswered,
                min(case when first_response_at is null then created_at end) as "oldestWaiting"
           from tickets where status in (${list(OPEN_TICKET)})
          group by queue, priority`,
        OPEN_TICKET,
      )
      return ok({
        queues: Object.entries(deps.rulebook().queues).map(([id, q]) => {
          const mine = rows.filter((r) => r.queue === id)
          const oldest = mine.map((r) => r.oldestWaiting).filter((v): v is number => v !== null)
          const oldestWaitingAt = oldest.length ? Math.min(...oldest.map(Number)) : null
          return {
            id,
            name: q.name,
            open: mine.reduce((n, r) => n + Number(r.open), 0),
            unanswered: mine.reduce((n, r) => n + Number(r.unanswered ?? 0), 0),
            byPriority: Object.fromEntries(mine.map((r) => [r.priority, Number(r.open)])),
            oldestWaitingAt,
            oldestWaitingMinutes:
              oldestWaitingAt === null ? null : Math.floor((at - oldestWaitingAt) / 60_000),
          }
        }),
      })
    },
  }
}
