import { and, asc, desc, eq, gte, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import { type Executor, placeholders, prepared } from './db.js'
import { auditLog, conversations, escalations, slaEvents, tickets } from './schema.js'

export type TicketRow = typeof tickets.$inferSelect
export type EscalationRow = typeof escalations.$inferSelect

export const TICKET_STATUSES = [
  'abierto',
  'en_proceso',
  'resuelto',
  'cerrado_sin_resolver',
] as const
export type TicketStatus = (typeof TICKET_STATUSES)[number]
export const OPEN_TICKET: TicketStatus[] = ['abierto', 'en_proceso']

export const ESCALATION_STATUSES = [
  'pendiente',
  'en_proceso',
  'resuelto',
  'cerrado_sin_resolver',
] as const
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number]
export const OPEN_ESCALATION: EscalationStatus[] = ['pendiente', 'en_proceso']

export type Level = 'L1' | 'L2' | 'L3'
export const nextLevel = (level: Level): Level | null =>
  level === 'L1' ? 'L2' : level === 'L2' ? 'L3' : null

/** `abierto → en_proceso → resuelto | cerrado_sin_resolver`; a closed ticket stays closed. */
const TICKET_MOVES: Record<TicketStatus, readonly TicketStatus[]> = {
  abierto: ['en_proceso', 'resuelto', 'cerrado_sin_resolver'],
  en_proceso: ['resuelto', 'cerrado_sin_resolver'],
  resuelto: [],
  cerrado_sin_resolver: [],
}

export type Urgency = 'vencido' | 'critico' | 'advertencia' | 'normal'

/** Urgency of an open case by the time left before its deadline. */
export function urgency(dueAt: number | null, now: number): Urgency {
  if (dueAt === null) return 'normal'
  const left = dueAt - now
  if (left <= 0) return 'vencido'
  if (left < 3_600_000) return 'critico'
  if (left < 4 * 3_600_000) return 'advertencia'
  return 'normal'
}

/** The deadline a ticket is working against now: first response until answered, then resolution. */
export function ticketDeadline(
  t: Pick<TicketRow, 'firstResponseAt' | 'firstResponseDueAt' | 'resolutionDueAt'>,
): number | null {
  return t.firstResponseAt === null
    ? (t.firstResponseDueAt ?? t.resolutionDueAt)
    : t.resolutionDueAt
}

export function audit(
  db: Executor,
  entry: { actor: string; action: string; subject: string; details?: unknown },
  at: number,
) {
  insertAudit(db).run({
    at,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: JSON.stringify(entry.details ?? {}),
  })
}

const insertAudit = prepared((db) =>
  db
    .insert(auditLog)
    .values(placeholders(['at', 'actor', 'action', 'subject', 'details']))
    .prepare(),
)

const ticketById = prepared((db) =>
  db
    .select()
    .from(tickets)
    .where(eq(tickets.id, sql.placeholder('id')))
    .prepare(),
)

export function getTicket(db: Executor, id: number): TicketRow | undefined {
  return ticketById(db).get({ id })
}

const escalationById = prepared((db) =>
  db
    .select()
    .from(escalations)
    .where(eq(escalations.id, sql.placeholder('id')))
    .prepare(),
)

export function getEscalation(db: Executor, id: number): EscalationRow | undefined {
  return escalationById(db).get({ id })
}

const openEscalationOf = prepared((db) =>
  db
    .select()
    .from(escalations)
    .where(
      and(
        eq(escalations.ticketId, sql.placeholder('ticketId')),
        inArray(escalations.status, OPEN_ESCALATION),
      ),
    )
    .orderBy(desc(escalations.id))
    .prepare(),
)

/** The open escalation of a ticket (there is at most one at a time). */
export function openEscalation(db: Executor, ticketId: number): EscalationRow | undefined {
  return openEscalationOf(db).get({ ticketId })
}

const insertEscalation = prepared((db) =>
  db
    .insert(escalations)
    .values(
      placeholders([
        'ticketId',
        'fromLevel',
        'toLevel',
        'reason',
        'notes',
        'escalatedBy',
        'status',
        'slaDueAt',
        'createdAt',
        'updatedAt',
      ]),
    )
    .returning()
    .prepare(),
)

/** Sets a ticket's level, and its queue unless `owner` is null. */
const setTicketLevel = prepared((db) =>
  db
    .update(tickets)
    .set({
      level: sql`${sql.placeholder('level')}`,
      queue: sql`coalesce(${sql.placeholder('owner')}, ${tickets.queue})`,
      updatedAt: sql`${sql.placeholder('at')}`,
    })
    .where(eq(tickets.id, sql.placeholder('id')))
    .prepare(),
)

/**
 * Opens an escalation of a ticket to `toLevel`: the open one, if any, is closed as escalated;
 * the ticket takes the level and the level owner's queue.
 */
export function escalate(
  db: Executor,
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
): EscalationRow {
  const current = openEscalation(db, e.ticketId)
  const ticket = getTicket(db, e.ticketId)
  if (current) {
    db.update(escalations)
      .set({
        status: 'cerrado_sin_resolver',
        resolution: `escalado a ${e.toLevel}: ${e.reason}`.slice(0, 1000),
        resolvedAt: at,
        updatedAt: at,
      })
      .where(eq(escalations.id, current.id))
      .run()
  }
  const row = insertEscalation(db).get({
    ticketId: e.ticketId,
    fromLevel: current?.toLevel ?? ticket?.level ?? null,
    toLevel: e.toLevel,
    reason: e.reason.slice(0, 1000),
    notes: e.notes?.slice(0, 4000) ?? null,
    escalatedBy: e.escalatedBy.slice(0, 200),
    status: 'pendiente',
    slaDueAt: e.slaDueAt,
    createdAt: at,
    updatedAt: at,
  })!
  setTicketLevel(db).run({ level: e.toLevel, owner: e.owner || null, at, id: e.ticketId })
  audit(
    db,
    {
      actor: e.escalatedBy,
      action: 'escalation.created',
      subject: `ticket:${e.ticketId}`,
      details: { escalationId: row.id, toLevel: e.toLevel, reason: e.reason },
    },
    at,
  )
  return row
}

export function acceptEscalation(
  db: Executor,
  id: number,
  by: string,
  at: number,
): EscalationRow | 'not_found' | 'not_pending' {
  const row = getEscalation(db, id)
  if (!row) return 'not_found'
  if (row.status !== 'pendiente') return 'not_pending'
  const updated = db
    .update(escalations)
    .set({ status: 'en_proceso', receivedBy: by.slice(0, 200), acceptedAt: at, updatedAt: at })
    .where(eq(escalations.id, id))
    .returning()
    .get()
  audit(
    db,
    {
      actor: by,
      action: 'escalation.accepted',
      subject: `ticket:${row.ticketId}`,
      details: { escalationId: id },
    },
    at,
  )
  return updated
}

export function resolveEscalation(
  db: Executor,
  id: number,
  r: { status: 'resuelto' | 'cerrado_sin_resolver'; resolution: string; by: string },
  at: number,
): EscalationRow | 'not_found' | 'closed' {
  const row = getEscalation(db, id)
  if (!row) return 'not_found'
  if (!OPEN_ESCALATION.includes(row.status as EscalationStatus)) return 'closed'
  const updated = db
    .update(escalations)
    .set({
      status: r.status,
      resolution: r.resolution.slice(0, 4000),
      resolvedAt: at,
      updatedAt: at,
      receivedBy: row.receivedBy ?? r.by,
    })
    .where(eq(escalations.id, id))
    .returning()
    .get()
  audit(
    db,
    {
      actor: r.by,
      action: `escalation.${r.status}`,
      subject: `ticket:${row.ticketId}`,
      details: { escalationId: id },
    },
    at,
  )
  return updated
}

/** Moves a ticket along its states; closing it closes its open escalation the same way. */
export function setTicketStatus(
  db: Executor,
  id: number,
  status: TicketStatus,
  by: string,
  at: number,
  note?: string,
): TicketRow | 'not_found' | { invalid: string } {
  const ticket = getTicket(db, id)
  if (!ticket) return 'not_found'
  const from = ticket.status as TicketStatus
  if (!TICKET_MOVES[from]?.includes(status))
    return { invalid: `a ticket ${from} cannot become ${status}` }
  const closing = status === 'resuelto' || status === 'cerrado_sin_resolver'
  const updated = db
    .update(tickets)
    .set({ status, updatedAt: at, ...(closing ? { resolvedAt: at } : {}) })
    .where(eq(tickets.id, id))
    .returning()
    .get()
  if (closing) {
    const open = openEscalation(db, id)
    if (open)
      resolveEscalation(db, open.id, { status, resolution: note ?? `ticket ${status}`, by }, at)
  }
  audit(
    db,
    {
      actor: by,
      action: `ticket.${status}`,
      subject: `ticket:${id}`,
      details: note ? { note } : {},
    },
    at,
  )
  return updated
}

export function assignTicket(
  db: Executor,
  id: number,
  change: { assignee: string | null; queue?: string },
  by: string,
  at: number,
): TicketRow | 'not_found' {
  const updated = db
    .update(tickets)
    .set({
      assignee: change.assignee,
      ...(change.queue ? { queue: change.queue } : {}),
      updatedAt: at,
    })
    .where(eq(tickets.id, id))
    .returning()
    .get()
  if (!updated) return 'not_found'
  audit(db, { actor: by, action: 'ticket.assigned', subject: `ticket:${id}`, details: change }, at)
  return updated
}

/**
 * A person answered the conversation: open tickets get their first response (once), and a
 * pending escalation is taken by whoever answered.
 */
export function recordFirstResponse(
  db: Executor,
  conversationId: number,
  by: string,
  at: number,
): void {
  const open = db
    .select({ id: tickets.id })
    .from(tickets)
    .where(and(eq(tickets.conversationId, conversationId), inArray(tickets.status, OPEN_TICKET)))
    .all()
  for (const { id } of open) {
    db.update(tickets)
      .set({ firstResponseAt: at, firstResponseBy: by.slice(0, 200), updatedAt: at })
      .where(and(eq(tickets.id, id), isNull(tickets.firstResponseAt)))
      .run()
    db.update(escalations)
      .set({ status: 'en_proceso', receivedBy: by.slice(0, 200), acceptedAt: at, updatedAt: at })
      .where(and(eq(escalations.ticketId, id), eq(escalations.status, 'pendiente')))
      .run()
  }
}

/** Records that an SLA event fired; false when it had already. */
export function fireOnce(
  db: Executor,
  subject: string,
  kind: string,
  dueAt: number,
  at: number,
): boolean {
  const inserted = db
    .insert(slaEvents)
    .values({ subject, kind, dueAt, firedAt: at })
    .onConflictDoNothing()
    .returning({ id: slaEvents.id })
    .all()
  return inserted.length > 0
}

export function hasFired(db: Executor, subject: string, kind: string, dueAt: number): boolean {
  return (
    db
      .select({ id: slaEvents.id })
      .from(slaEvents)
      .where(
        and(eq(slaEvents.subject, subject), eq(slaEvents.kind, kind), eq(slaEvents.dueAt, dueAt)),
      )
      .get() !== undefined
  )
}

/** Milliseconds before an escalation's deadline at which its level is warned, per level. */
export type WarnBefore = Record<Level, number>

const warnAt = (w: WarnBefore) =>
  sql`(${escalations.slaDueAt} - case ${escalations.toLevel} when 'L1' then ${w.L1} when 'L2' then ${w.L2} when 'L3' then ${w.L3} else 0 end)`

const notFired = (subject: ReturnType<typeof sql>, kind: string, due: unknown) =>
  sql`not exists (select 1 from sla_events e where e.subject = ${subject} and e.kind = ${kind} and e.due_at = ${due})`

/**
 * What the SLA clock must act on now: open tickets past a deadline and pending escalations past
 * their warning or deadline, leaving out events that already fired. Work done in SQL, so a
 * run costs what is due, not what is open.
 */
export function dueCases(db: Executor, now: number, warnBefore: WarnBefore) {
  const ticketSubject = sql`'ticket:' || ${tickets.id}`
  const due = db
    .select()
    .from(tickets)
    .where(
      and(
        inArray(tickets.status, OPEN_TICKET),
        or(
          and(
            isNull(tickets.firstResponseAt),
            lte(tickets.firstResponseDueAt, now),
            notFired(ticketSubject, 'first_response_breach', tickets.firstResponseDueAt),
          ),
          and(
            lte(tickets.resolutionDueAt, now),
            notFired(ticketSubject, 'resolution_breach', tickets.resolutionDueAt),
          ),
        ),
      ),
    )
    .orderBy(asc(tickets.id))
    .all()
  const escalationSubject = sql`'escalation:' || ${escalations.id}`
  const dueEscalations = db
    .select()
    .from(escalations)
    .where(
      and(
        eq(escalations.status, 'pendiente'),
        or(
          and(
            lte(escalations.slaDueAt, now),
            notFired(escalationSubject, 'breach', escalations.slaDueAt),
          ),
          and(
            sql`${warnAt(warnBefore)} <= ${now}`,
            sql`${escalations.slaDueAt} > ${now}`,
            notFired(escalationSubject, 'warning', escalations.slaDueAt),
          ),
        ),
      ),
    )
    .orderBy(asc(escalations.id))
    .all()
  const ids = [...new Set(dueEscalations.map((e) => e.ticketId))]
  const escalated =
    ids.length > 0 ? db.select().from(tickets).where(inArray(tickets.id, ids)).all() : []
  return { tickets: due, escalations: dueEscalations, escalatedTickets: escalated }
}

/** The nearest future deadline or warning among open cases (unix ms), or null. */
export function nextCaseDeadline(db: Executor, now: number, warnBefore: WarnBefore): number | null {
  const open = sql.join(
    OPEN_TICKET.map((s) => sql`${s}`),
    sql`, `,
  )
  const w = warnAt(warnBefore)
  const row = db.get<{ next: number | null }>(sql`
    select min(x) as next from (
      select first_response_due_at as x from tickets
        where status in (${open}) and first_response_at is null and first_response_due_at > ${now}
      union all
      select resolution_due_at from tickets
        where status in (${open}) and resolution_due_at > ${now}
      union all
      select case when ${w} > ${now} then ${w} else sla_due_at end from escalations
        where status = 'pendiente' and sla_due_at > ${now}
    )`)
  return row?.next ?? null
}

export function conversationOf(db: Executor, ticketId: number) {
  return db
    .select({ conversation: conversations })
    .from(tickets)
    .innerJoin(conversations, eq(conversations.id, tickets.conversationId))
    .where(eq(tickets.id, ticketId))
    .get()?.conversation
}

/** A resolved ticket of the conversation whose survey went out since `since` and is unanswered. */
export function pendingSurvey(
  db: Executor,
  conversationId: number,
  since: number,
): TicketRow | undefined {
  return pendingSurveyOf(db).get({ conversationId, since })
}

const pendingSurveyOf = prepared((db) =>
  db
    .select()
    .from(tickets)
    .where(
      and(
        eq(tickets.conversationId, sql.placeholder('conversationId')),
        eq(tickets.status, 'resuelto'),
        isNull(tickets.satisfaction),
        gte(tickets.surveySentAt, sql.placeholder('since')),
      ),
    )
    .orderBy(desc(tickets.surveySentAt))
    .prepare(),
)

export function markSurveySent(db: Executor, ticketId: number, at: number): void {
  db.update(tickets).set({ surveySentAt: at, updatedAt: at }).where(eq(tickets.id, ticketId)).run()
}

export function recordSatisfaction(
  db: Executor,
  ticketId: number,
  score: number,
  by: string,
  at: number,
): void {
  db.update(tickets)
    .set({ satisfaction: score, updatedAt: at })
    .where(eq(tickets.id, ticketId))
    .run()
  audit(
    db,
    { actor: by, action: 'ticket.satisfaction', subject: `ticket:${ticketId}`, details: { score } },
    at,
  )
}
