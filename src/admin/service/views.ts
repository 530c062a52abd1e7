import { OPEN_TICKET, type TicketStatus, ticketDeadline, urgency } from '../../cases/case-rules.js'
import type { TicketRow } from '../../store/ticket-store.js'

/**
 * A ticket as the API and the console show it: its row and, while open, the deadline it works
 * against and its urgency. That deadline is the nearer of the ticket's own (first response,
 * then resolution) and its open escalation's (`levelDueAt`), so the list, the ticket and its
 * escalation tell one SLA truth.
 */
export const ticketView = (t: TicketRow, now: number, levelDueAt: number | null = null) => {
  const open = OPEN_TICKET.includes(t.status as TicketStatus)
  const own = ticketDeadline(t)
  const byLevel = levelDueAt !== null && (own === null || levelDueAt < own)
  const dueAt = open ? (byLevel ? levelDueAt : own) : null
  return {
    id: t.id,
    number: t.number,
    type: t.type,
    status: t.status,
    priority: t.priority,
    queue: t.queue,
    level: t.level,
    assignee: t.assignee,
    conversationId: t.conversationId,
    messageId: t.messageId,
    createdAt: t.createdAt,
    firstResponseDueAt: t.firstResponseDueAt,
    firstResponseAt: t.firstResponseAt,
    firstResponseBy: t.firstResponseBy,
    resolutionDueAt: t.resolutionDueAt,
    resolvedAt: t.resolvedAt,
    satisfaction: t.satisfaction,
    dueAt,
    /** Which clock `dueAt` is: the first response, the resolution, or the escalated level's. */
    dueKind: !open
      ? null
      : byLevel
        ? ('level' as const)
        : t.firstResponseAt === null && t.firstResponseDueAt !== null
          ? ('first_response' as const)
          : ('resolution' as const),
    urgency: open ? urgency(dueAt, now) : null,
  }
}

export type TicketView = ReturnType<typeof ticketView>
