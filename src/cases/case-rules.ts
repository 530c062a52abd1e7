// What a case is, apart from where it is kept: the states of tickets and escalations, the moves
// between them, the levels, and how urgent an open case is.

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

/** Whether a ticket may move from `from` to `to`. */
export const canMove = (from: string, to: TicketStatus): boolean =>
  (TICKET_MOVES[from as TicketStatus] ?? []).includes(to)

/** Whether `status` closes a ticket (it is resolved or given up). */
export const closes = (status: TicketStatus): status is 'resuelto' | 'cerrado_sin_resolver' =>
  status === 'resuelto' || status === 'cerrado_sin_resolver'

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
export function ticketDeadline(t: {
  firstResponseAt: number | null
  firstResponseDueAt: number | null
  resolutionDueAt: number | null
}): number | null {
  return t.firstResponseAt === null
    ? (t.firstResponseDueAt ?? t.resolutionDueAt)
    : t.resolutionDueAt
}

/** Milliseconds before an escalation's deadline at which its level is warned, per level. */
export type WarnBefore = Record<Level, number>
