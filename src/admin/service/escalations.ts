import { z } from 'zod'
import { type EscalationStatus, OPEN_ESCALATION, urgency } from '../../cases/case-rules.js'
import { escalationRows } from '../../store/rows.js'
import { list } from '../../store/sql.js'
import {
  acceptEscalation,
  type EscalationRow,
  resolveEscalation,
} from '../../store/ticket-store.js'
import { mayOwn, ownerOf } from '../people.js'
import {
  type AdminApiDeps,
  authorOf,
  By,
  conflict,
  forbidden,
  Id,
  notFound,
  ok,
  read,
  type ServiceInput,
} from './kit.js'

const isOpen = (e: EscalationRow) => OPEN_ESCALATION.includes(e.status as EscalationStatus)

/** An escalation and, while open, the urgency of its deadline. */
export const escalationView = (e: EscalationRow, now: number) => ({
  ...e,
  urgency: isOpen(e) ? urgency(e.slaDueAt, now) : null,
})

const Resolution = z.object({
  status: z.enum(['resuelto', 'cerrado_sin_resolver']),
  resolution: z.string().min(3).max(4000),
  by: By,
})

/** Escalations: the active ones by deadline, taking one, closing one. */
export function escalationService(deps: AdminApiDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()
  /** Why the signed-in person may not take or close this escalation (its level is above them). */
  const notTheirs = async (req: ServiceInput, id: number) => {
    if (!req.actor) return null
    const level = (
      await db.get<{ level: string }>('select to_level as level from escalations where id = ?', [
        id,
      ])
    )?.level
    return level && !mayOwn(req.actor.role, level)
      ? forbidden(
          `an escalation to ${level} is for ${ownerOf(level)} or above, not ${req.actor.role}`,
        )
      : null
  }
  return {
    async escalations(req: ServiceInput) {
      const q = read(z.object({ active: z.enum(['true', 'false']).default('true') }), req.query)
      if (!q.ok) return q.refusal
      const rows = await db.all(
        `select ${escalationRows.select('e')}, t.number as ticket, t.queue as queue,
                t.priority as priority
           from escalations e join tickets t on t.id = e.ticket_id
          ${q.value.active === 'true' ? `where e.status in (${list(OPEN_ESCALATION)})` : ''}
          order by e.sla_due_at`,
        q.value.active === 'true' ? OPEN_ESCALATION : [],
      )
      const at = now()
      return ok({
        escalations: rows.map((row) => {
          const e = escalationRows.read(row)
          return {
            ...e,
            ticket: row.ticket as string,
            queue: row.queue as string,
            priority: row.priority as string,
            urgencia: isOpen(e) ? urgency(e.slaDueAt, at) : null,
          }
        }),
      })
    },

    async acceptEscalation(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(z.object({ by: By }), req.body ?? {})
      if (!body.ok) return body.refusal
      const refused = await notTheirs(req, id.value)
      if (refused) return refused
      const result = await acceptEscalation(db, id.value, authorOf(req, body.value.by), now())
      if (result === 'not_found') return notFound(`escalation ${id.value} not found`)
      if (result === 'not_pending') return conflict(`escalation ${id.value} is not pending`)
      deps.onCasesChanged()
      return ok({ escalation: result })
    },

    async resolveEscalation(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(Resolution, req.body)
      if (!body.ok) return body.refusal
      const refused = await notTheirs(req, id.value)
      if (refused) return refused
      const result = await resolveEscalation(
        db,
        id.value,
        { ...body.value, by: authorOf(req, body.value.by) },
        now(),
      )
      if (result === 'not_found') return notFound(`escalation ${id.value} not found`)
      if (result === 'closed') return conflict(`escalation ${id.value} is already closed`)
      deps.onCasesChanged()
      return ok({ escalation: result })
    },
  }
}
