import {
  canMove,
  closes,
  type EscalationStatus,
  type Level,
  OPEN_ESCALATION,
  OPEN_TICKET,
  type TicketStatus,
} from '../cases/case-rules.js'
import { conversationRows, escalationRows, ticketRows } from './rows.js'
import type { escalations, tickets } from './schema.js'
import type { Sql } from './sql.js'

// Where cases are kept: tickets, their escalations, the audit log and the SLA events that fired.
// What the states mean and which moves are allowed is `cases/case-rules.ts`.

export type TicketRow = typeof tickets.$inferSelect
export type EscalationRow = typeof escalations.$inferSelect

export const TICKET = `select ${ticketRows.select('t')} from tickets t`
export const ESCALATION = `select ${escalationRows.select('e')} from escalations e`
export const OPEN_TICKETS = OPEN_TICKET.map((s) => `'${s}'`).join(', ')
export const OPEN_ESCALATIONS = OPEN_ESCALATION.map((s) => `'${s}'`).join(', ')

export type AuditEntry = { actor: string; action: string; subject: string; details?: unknown }

export async function audit(db: Sql, entry: AuditEntry, at: number): Promise<void> {
  await auditAll(db, [entry], at)
}

/** Several entries of the audit log at once: one statement. */
export async function auditAll(db: Sql, entries: readonly AuditEntry[], at: number): Promise<void> {
  if (entries.length === 0) return
  await db.run(
    `insert into audit_log (at, actor, action, subject, details)
     values ${entries.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    entries.flatMap((e) => [at, e.actor, e.action, e.subject, JSON.stringify(e.details ?? {})]),
  )
}

export async function getTicket(db: Sql, id: number): Promise<TicketRow | undefined> {
  const row = await db.get(`${TICKET} where t.id = ?`, [id])
  return row ? ticketRows.read(row) : undefined
}

export async function getEscalation(db: Sql, id: number): Promise<EscalationRow | undefined> {
  const row = await db.get(`${ESCALATION} where e.id = ?`, [id])
  return row ? escalationRows.read(row) : undefined
}

/** The open escalation of a ticket (there is at most one at a time). */
export async function openEscalation(
  db: Sql,
  ticketId: number,
): Promise<EscalationRow | undefined> {
  const row = await db.get(
    `${ESCALATION} where e.ticket_id = ? and e.status in (${OPEN_ESCALATIONS}) order by e.id desc`,
    [ticketId],
  )
  return row ? escalationRows.read(row) : undefined
}

/**
 * Opens an escalation of a ticket to `toLevel`: the open one, if any, is closed as escalated;
 * the ticket takes the level and the level owner's queue.
 */
export async function escalate(
  db: Sql,
  e: {
    ticketId: number
    toLevel: Level
    /** The queue that takes the ticket, or null to leave it where the routing put it. */
    owner: string | null
    reason: string
    notes?: string | null
    escalatedBy: string
    slaDueAt: number
  },
  at: number,
): Promise<EscalationRow> {
  const current = await openEscalation(db, e.ticketId)
  const ticket = await getTicket(db, e.ticketId)
  if (current) {
    await db.run(
      `update escalations set status = 'cerrado_sin_resolver', resolution = ?, resolved_at = ?,
         updated_at = ? where id = ?`,
      [`escalado a ${e.toLevel}: ${e.reason}`.slice(0, 1000), at, at, current.id],
    )
  }
  const inserted = await db.get(
    `insert into escalations (ticket_id, from_level, to_level, reason, notes, escalated_by,
       status, sla_due_at, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, 'pendiente', ?, ?, ?) returning ${escalationRows.select('')}`,
    [
      e.ticketId,
      current?.toLevel ?? ticket?.level ?? null,
      e.toLevel,
      e.reason.slice(0, 1000),
      e.notes?.slice(0, 4000) ?? null,
      e.escalatedBy.slice(0, 200),
      e.slaDueAt,
      at,
      at,
    ],
  )
  await db.run(
    'update tickets set level = ?, queue = coalesce(?, queue), updated_at = ? where id = ?',
    [e.toLevel, e.owner || null, at, e.ticketId],
  )
  const escalation = escalationRows.read(inserted!)
  await audit(
    db,
    {
      actor: e.escalatedBy,
      action: 'escalation.created',
      subject: `ticket:${e.ticketId}`,
      details: { escalationId: escalation.id, toLevel: e.toLevel, reason: e.reason },
    },
    at,
  )
  return escalation
}

export async function acceptEscalation(
  db: Sql,
  id: number,
  by: string,
  at: number,
): Promise<EscalationRow | 'not_found' | 'not_pending'> {
  const row = await getEscalation(db, id)
  if (!row) return 'not_found'
  if (row.status !== 'pendiente') return 'not_pending'
  await db.run(
    `update escalations set status = 'en_proceso', received_by = ?, accepted_at = ?,
       updated_at = ? where id = ?`,
    [by.slice(0, 200), at, at, id],
  )
  await audit(
    db,
    {
      actor: by,
      action: 'escalation.accepted',
      subject: `ticket:${row.ticketId}`,
      details: { escalationId: id },
    },
    at,
  )
  return (await getEscalation(db, id))!
}

export async function resolveEscalation(
  db: Sql,
  id: number,
  r: { status: 'resuelto' | 'cerrado_sin_resolver'; resolution: string; by: string },
  at: number,
): Promise<EscalationRow | 'not_found' | 'closed'> {
  const row = await getEscalation(db, id)
  if (!row) return 'not_found'
  if (!OPEN_ESCALATION.includes(row.status as EscalationStatus)) return 'closed'
  await db.run(
    `update escalations set status = ?, resolution = ?, resolved_at = ?, updated_at = ?,
       received_by = ? where id = ?`,
    [r.status, r.resolution.slice(0, 4000), at, at, row.receivedBy ?? r.by, id],
  )
  await audit(
    db,
    {
      actor: r.by,
      action: `escalation.${r.status}`,
      subject: `ticket:${row.ticketId}`,
      details: { escalationId: id },
    },
    at,
  )
  return (await getEscalation(db, id))!
}

/** Moves a ticket along its states; closing it closes its open escalation the same way. */
export async function setTicketStatus(
  db: Sql,
  id: number,
  status: TicketStatus,
  by: string,
  at: number,
  note?: string,
): Promise<TicketRow | 'not_found' | { invalid: string }> {
  const ticket = await getTicket(db, id)
  if (!ticket) return 'not_found'
  if (!canMove(ticket.status, status))
    return { invalid: `a ticket ${ticket.status} cannot become ${status}` }
  const closing = closes(status)
  await db.run(
    `update tickets set status = ?, updated_at = ?, resolved_at = coalesce(?, resolved_at)
      where id = ?`,
    [status, at, closing ? at : null, id],
  )
  if (closing) {
    const open = await openEscalation(db, id)
    if (open)
      await resolveEscalation(
        db,
        open.id,
        { status, resolution: note ?? `ticket ${status}`, by },
        at,
      )
  }
  await audit(
    db,
    {
      actor: by,
      action: `ticket.${status}`,
      subject: `ticket:${id}`,
      details: note ? { note } : {},
    },
    at,
  )
  return (await getTicket(db, id))!
}

export async function assignTicket(
  db: Sql,
  id: number,
  change: { assignee: string | null; queue?: string },
  by: string,
  at: number,
): Promise<TicketRow | 'not_found'> {
  const { changes } = await db.run(
    'update tickets set assignee = ?, queue = coalesce(?, queue), updated_at = ? where id = ?',
    [change.assignee, change.queue || null, at, id],
  )
  if (changes === 0) return 'not_found'
  await audit(
    db,
    { actor: by, action: 'ticket.assigned', subject: `ticket:${id}`, details: change },
    at,
  )
  return (await getTicket(db, id))!
}

/** A person answered the customer from the console: the ticket's first response, once. */
export async function recordTicketResponse(
  db: Sql,
  ticketId: number,
  by: string,
  at: number,
): Promise<void> {
  await db.run(
    `update tickets set first_response_at = ?, first_response_by = ?, updated_at = ?
      where id = ? and first_response_at is null`,
    [at, by.slice(0, 200), at, ticketId],
  )
}

/**
 * A person answered the conversation: open tickets get their first response (once), and a
 * pending escalation is taken by whoever answered.
 */
export async function recordFirstResponse(
  db: Sql,
  conversationId: number,
  by: string,
  at: number,
): Promise<void> {
  const open = await db.all<{ id: number }>(
    `select id from tickets where conversation_id = ? and status in (${OPEN_TICKETS})`,
    [conversationId],
  )
  for (const { id } of open) {
    await recordTicketResponse(db, id, by, at)
    await db.run(
      `update escalations set status = 'en_proceso', received_by = ?, accepted_at = ?,
         updated_at = ? where ticket_id = ? and status = 'pendiente'`,
      [by.slice(0, 200), at, at, id],
    )
  }
}

export async function conversationOf(db: Sql, ticketId: number) {
  const row = await db.get(
    `select ${conversationRows.select('c')} from tickets t
       join conversations c on c.id = t.conversation_id where t.id = ?`,
    [ticketId],
  )
  return row ? conversationRows.read(row) : undefined
}

/** A resolved ticket of the conversation whose survey went out since `since` and is unanswered. */
export async function pendingSurvey(
  db: Sql,
  conversationId: number,
  since: number,
): Promise<TicketRow | undefined> {
  const row = await db.get(
    `${TICKET} where t.conversation_id = ? and t.status = 'resuelto' and t.satisfaction is null
       and t.survey_sent_at >= ? order by t.survey_sent_at desc`,
    [conversationId, since],
  )
  return row ? ticketRows.read(row) : undefined
}

export async function markSurveySent(db: Sql, ticketId: number, at: number): Promise<void> {
  await db.run('update tickets set survey_sent_at = ?, updated_at = ? where id = ?', [
    at,
    at,
    ticketId,
  ])
}

export async function recordSatisfaction(
  db: Sql,
  ticketId: number,
  score: number,
  by: string,
  at: number,
): Promise<void> {
  await db.run('update tickets set satisfaction = ?, updated_at = ? where id = ?', [
    score,
    at,
    ticketId,
  ])
  await audit(
    db,
    { actor: by, action: 'ticket.satisfaction', subject: `ticket:${ticketId}`, details: { score } },
    at,
  )
}
