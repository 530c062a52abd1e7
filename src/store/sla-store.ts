import type { WarnBefore } from '../cases/case-rules.js'
import { escalationRows, ticketRows } from './rows.js'
import type { Sql } from './sql.js'
import { ESCALATION, OPEN_TICKETS, TICKET } from './ticket-store.js'

// The SLA clock's store: the cases due for a warning or a breach, and the events that fired.

/** Records that an SLA event fired; false when it had already. */
export async function fireOnce(
  db: Sql,
  subject: string,
  kind: string,
  dueAt: number,
  at: number,
): Promise<boolean> {
  const inserted = await db.get(
    `insert into sla_events (subject, kind, due_at, fired_at) values (?, ?, ?, ?)
     on conflict do nothing returning id`,
    [subject, kind, dueAt, at],
  )
  return inserted !== undefined
}

export async function hasFired(
  db: Sql,
  subject: string,
  kind: string,
  dueAt: number,
): Promise<boolean> {
  const row = await db.get(
    'select id from sla_events where subject = ? and kind = ? and due_at = ?',
    [subject, kind, dueAt],
  )
  return row !== undefined
}

const warnAt = (w: WarnBefore) =>
  `(e.sla_due_at - case e.to_level when 'L1' then ${w.L1} when 'L2' then ${w.L2} when 'L3' then ${w.L3} else 0 end)`

const notFired = (subject: string, kind: string, due: string) =>
  `not exists (select 1 from sla_events f where f.subject = ${subject} and f.kind = '${kind}' and f.due_at = ${due})`

/**
 * What the SLA clock must act on now: open tickets past a deadline and pending escalations past
 * their warning or deadline, leaving out events that already fired. Work done in SQL, so a
 * run costs what is due, not what is open.
 */
export async function dueCases(db: Sql, now: number, warnBefore: WarnBefore) {
  const ticketSubject = `'ticket:' || t.id`
  const due = await db.all(
    `${TICKET}
      where t.status in (${OPEN_TICKETS})
        and ((t.first_response_at is null and t.first_response_due_at <= ?
              and ${notFired(ticketSubject, 'first_response_breach', 't.first_response_due_at')})
          or (t.resolution_due_at <= ?
              and ${notFired(ticketSubject, 'resolution_breach', 't.resolution_due_at')}))
      order by t.id`,
    [now, now],
  )
  const escalationSubject = `'escalation:' || e.id`
  const dueEscalations = await db.all(
    `${ESCALATION}
      where e.status = 'pendiente'
        and ((e.sla_due_at <= ? and ${notFired(escalationSubject, 'breach', 'e.sla_due_at')})
          or (${warnAt(warnBefore)} <= ? and e.sla_due_at > ?
              and ${notFired(escalationSubject, 'warning', 'e.sla_due_at')}))
      order by e.id`,
    [now, now, now],
  )
  const escalationList = dueEscalations.map((row) => escalationRows.read(row))
  const ids = [...new Set(escalationList.map((e) => e.ticketId))]
  const escalated =
    ids.length > 0
      ? await db.all(`${TICKET} where t.id in (${ids.map(() => '?').join(', ')})`, ids)
      : []
  return {
    tickets: due.map((row) => ticketRows.read(row)),
    escalations: escalationList,
    escalatedTickets: escalated.map((row) => ticketRows.read(row)),
  }
}

/** The nearest future deadline or warning among open cases (unix ms), or null. */
export async function nextCaseDeadline(
  db: Sql,
  now: number,
  warnBefore: WarnBefore,
): Promise<number | null> {
  const w = warnAt(warnBefore)
  const row = await db.get<{ next: number | null }>(
    `select min(x) as next from (
      select first_response_due_at as x from tickets
        where status in (${OPEN_TICKETS}) and first_response_at is null and first_response_due_at > ?
      union all
      select resolution_due_at as x from tickets
        where status in (${OPEN_TICKETS}) and resolution_due_at > ?
      union all
      select case when ${w} > ? then ${w} else e.sla_due_at end as x from escalations e
        where e.status = 'pendiente' and e.sla_due_at > ?
    ) deadlines`,
    [now, now, now, now],
  )
  return row?.next === null || row?.next === undefined ? null : Number(row.next)
}
