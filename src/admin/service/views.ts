import { OPEN_TICKET, type TicketStatus, ticketDeadline, urgency } from '../../cases/case-rules.js'
import type { TicketRow } from '../../store/ticket-store.js'

/** A ticket as the API and the console show it: its row and, while open, its urgency. */
export const ticketView = (t: TicketRow, now: number) => ({
  id: t.id,
  number: t.number,
  type: t.type,
  status: t.status,
  priority: t.priority,
  queue: t.queue,
  level: t.level,
  assignee: t.assignee,
  conversationId: t.conversationId,
  createdAt: t.createdAt,
  firstResponseDueAt: t.firstResponseDueAt,
  firstResponseAt: t.firstResponseAt,
  firstResponseBy: t.firstResponseBy,
  resolutionDueAt: t.resolutionDueAt,
  resolvedAt: t.resolvedAt,
  satisfaction: t.satisfaction,
  urgency: OPEN_TICKET.includes(t.status as TicketStatus) ? urgency(ticketDeadline(t), now) : null,
})

export type TicketView = ReturnType<typeof ticketView>
