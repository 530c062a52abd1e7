import { z } from 'zod'
import { OPEN_ESCALATION, OPEN_TICKET, TICKET_STATUSES } from '../../cases/case-rules.js'
import { ticketRows } from '../../store/rows.js'
import { list, type SqlValue } from '../../store/sql.js'
import { actorName, TOKEN_PERSON } from '../people.js'
import { type AdminApiDeps, ok, read, type ServiceInput } from './kit.js'
import { ticketView } from './views.js'

// The case list of the API and the console: filters, a search over the customer and the
// messages, views for one person, orders, and pages.

const TicketFilter = z.object({
  status: z.enum([...TICKET_STATUSES, 'open']).optional(),
  queue: z.string().max(64).optional(),
  level: z.enum(['L1', 'L2', 'L3']).optional(),
  priority: z.enum(['critica', 'alta', 'media', 'baja']).optional(),
  /** Words in the customer's name, email or phone, the ticket number or the messages. */
  q: z.string().trim().max(200).optional(),
  /** `mine`: assigned to, or accepted by, the signed-in person; `unassigned`: nobody's yet. */
  view: z.enum(['all', 'mine', 'unassigned']).default('all'),
  /** `urgency`: open cases first, the most overdue (then the nearest deadline) first. */
  sort: z.enum(['urgency', 'newest', 'oldest', 'priority']).default('urgency'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
})

/** Cases with their customer, channel, last message and deadline, and how many match. */
export async function searchTickets(deps: Pick<AdminApiDeps, 'db' | 'clock'>, req: ServiceInput) {
  const { db } = deps
  const q = read(TicketFilter, req.query)
  if (!q.ok) return q.refusal
  const { status, queue, level, priority, limit, offset } = q.value
  const where: string[] = []
  const params: SqlValue[] = []
  if (status === 'open') where.push(`t.status in (${list(OPEN_TICKET)})`)
  else if (status) where.push('t.status = ?')
  params.push(...(status === 'open' ? OPEN_TICKET : status ? [status] : []))
  for (const [column, value] of [
    ['queue', queue],
    ['level', level],
    ['priority', priority],
  ] as const) {
    if (value === undefined) continue
    where.push(`t.${column} = ?`)
    params.push(value)
  }
  if (q.value.q) {
    const words = searchPatterns(q.value.q)
    where.push(`(lower(k.name) like ? escape '!' or lower(k.email) like ? escape '!'
      or lower(t.number) like ? escape '!'
      or exists (select 1 from messages m where m.conversation_id = t.conversation_id
                   and lower(m.text) like ? escape '!')
      ${words.digits ? `or k.phone like ? escape '!'` : ''})`)
    params.push(words.text, words.text, words.text, words.text)
    if (words.digits) params.push(words.digits)
  }
  if (q.value.view === 'unassigned') where.push('t.assignee is null')
  if (q.value.view === 'mine') {
    const me = req.actor ?? TOKEN_PERSON
    const names = [actorName(me), me.name, ...(me.email ? [me.email] : [])]
    where.push(`(t.assignee in (${list(names)}) or exists (select 1 from escalations e
      where e.ticket_id = t.id and e.received_by = ? and e.status in (${list(OPEN_ESCALATION)})))`)
    params.push(...names, actorName(me), ...OPEN_ESCALATION)
  }
  const from = `from tickets t join conversations c on c.id = t.conversation_id
    join contacts k on k.id = c.contact_id ${where.length ? `where ${where.join(' and ')}` : ''}`
  const order = {
    urgency: 'open_rank, due nulls last, id',
    newest: 'id desc',
    oldest: 'id',
    priority: 'priority_rank, open_rank, due nulls last, id',
  }[q.value.sort]
  // The case's deadline is the nearer of the ticket's (first response, then resolution)
  // and its open escalation's: one SLA truth for the list, the ticket and the escalation.
  const [rows, counted] = await Promise.all([
    db.all(
      `select y.*,
              case when open_rank = 1 then null
                when "levelDue" is not null and ("ticketDue" is null or "levelDue" < "ticketDue")
                  then "levelDue" else "ticketDue" end as due
         from (
           select ${ticketRows.select('t')}, k.name as "contactName", k.email as "contactEmail",
                  k.phone as "contactPhone", c.channel as "channel",
                  (select min(e.sla_due_at) from escalations e where e.ticket_id = t.id
                     and e.status in (${list(OPEN_ESCALATION)})) as "levelDue",
                  case when t.first_response_at is null
                    then coalesce(t.first_response_due_at, t.resolution_due_at)
                    else t.resolution_due_at end as "ticketDue",
                  case when t.status in (${list(OPEN_TICKET)}) then 0 else 1 end as open_rank,
                  case t.priority when 'critica' then 0 when 'alta' then 1 when 'media' then 2
                    else 3 end as priority_rank,
                  (select m.text from messages m where m.conversation_id = t.conversation_id
                    order by m.sent_at desc, m.id desc limit 1) as "lastText",
                  (select m.author_role from messages m where m.conversation_id = t.conversation_id
                    order by m.sent_at desc, m.id desc limit 1) as "lastAuthor"
           ${from}) y
       order by ${order} limit ? offset ?`,
      [...OPEN_ESCALATION, ...OPEN_TICKET, ...params, limit, offset],
    ),
    db.get<{ n: number }>(`select count(*) as n ${from}`, params),
  ])
  const at = deps.clock.now().getTime()
  return ok({
    total: Number(counted?.n ?? 0),
    tickets: rows.map((row) => ({
      ...ticketView(ticketRows.read(row), at, numberOrNull(row.levelDue)),
      channel: row.channel as string,
      contact: {
        name: (row.contactName as string | null) ?? null,
        email: (row.contactEmail as string | null) ?? null,
        phone: (row.contactPhone as string | null) ?? null,
      },
      lastMessage:
        typeof row.lastText === 'string'
          ? { text: preview(row.lastText), authorRole: String(row.lastAuthor) }
          : null,
    })),
  })
}

const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)

/** A message cut to a line for the case list. */
const preview = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 140 ? `${line.slice(0, 139)}…` : line
}

/**
 * LIKE patterns for a search: the words as typed (lower-cased, `!` escaping LIKE's wildcards),
 * and, when the search holds six digits or more, those digits for phone numbers however they
 * were written.
 */
function searchPatterns(q: string): { text: string; digits: string | null } {
  const literal = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`)
  const digits = q.replace(/\D/g, '')
  return {
    text: `%${literal(q.toLowerCase())}%`,
    digits: digits.length >= 6 ? `%${digits}%` : null,
  }
}
