import { levelReason } from '../actions/decision-note.js'
import { type OpenCase, routeWithinCase } from '../actions/within-case.js'
import type { Planned } from '../sla/escalation.js'
import { deadline, escalateTicket } from '../sla/escalation.js'
import type { Sql } from '../store/sql.js'
import { getTicket } from '../store/ticket-store.js'
import type { OpenCaseFound } from '../store/triage-reads.js'
import { openTicket, type TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'
import type { PipelineDeps } from './process-message.js'

/** The case a settled decision opens or continues, and how the message is handed on in it. */
export type CaseStep = {
  /** The ticket the message belongs to, when its decision has one. */
  ticket: { id: number; number: string; created: boolean } | null
  /** The escalation the message's level started, with its alerts. */
  escalation: Planned | null
  /** The decision as the admins' tools are told it (within an open case: the case's). */
  routed: Decision
  /** Said with the decision: the escalation's notes, how it was handed on within the case. */
  notes: string[]
}

/**
 * Opens the case a decision asks for (or continues the conversation's open one), escalates it
 * when the message reaches a level the case had not, and hands the message on as part of a
 * case that was open before.
 */
export async function openOrContinueCase(
  deps: Pick<PipelineDeps, 'channels'>,
  tx: Sql,
  subject: TriageSubject,
  decision: Decision,
  openCase: OpenCaseFound | null,
  rulebook: Rulebook,
  now: Date,
): Promise<CaseStep> {
  const { message } = subject
  const before = openCase?.ticket ?? null
  const ticket = decision.ticket
    ? before
      ? { id: before.id, number: before.number, created: false }
      : await openTicket(tx, newTicket(subject, decision, rulebook, now), now)
    : null
  // A case that reaches a level (or a higher one than its ticket had) is escalated to it.
  const ticketRow = ticket
    ? ticket.id === before?.id
      ? before
      : await getTicket(tx, ticket.id)
    : null
  const escalation =
    ticketRow && decision.level && !(ticketRow.level && ticketRow.level >= decision.level)
      ? await escalateTicket(
          tx,
          {
            ticket: ticketRow,
            channel: message.channel,
            level: decision.level,
            reason: levelReason(decision),
            by: 'centralita (reglas)',
            summary: message.text,
            initial: ticketRow.level === null,
          },
          rulebook,
          deps.channels,
          now.getTime(),
        )
      : null
  // A message in a case that was open before is handed on as part of it, as it stands now.
  const current = before && escalation ? ((await getTicket(tx, before.id)) ?? null) : before
  const open: OpenCase | null = current
    ? {
        number: current.number,
        queue: current.queue,
        // An escalation changes the ticket's level and queue, not its priority or start: the
        // more urgent priority read with the case still stands.
        priority: openCase?.moreUrgent ?? current.priority,
        level: current.level,
      }
    : null
  const routed = routeWithinCase(decision, open)
  return {
    ticket,
    escalation,
    routed: routed.decision,
    notes: [...(escalation?.notes ?? []), ...(routed.note ? [routed.note] : [])],
  }
}

function newTicket(subject: TriageSubject, decision: Decision, rulebook: Rulebook, now: Date) {
  const { message, conversation } = subject
  const priority = rulebook.priority(decision.priority)
  const due = (ms: number) =>
    deadline(rulebook, message.channel, now.getTime(), ms, priority.business_hours)
  return {
    conversationId: conversation.id,
    messageId: message.id,
    type: decision.ticket ?? 'consulta',
    priority: decision.priority,
    queue: decision.queue ?? rulebook.settings.default_queue,
    // The level is set by the escalation that follows, with its record and SLA.
    level: null,
    assignee: decision.assignedOperator,
    firstResponseDueAt: due(priority.first_response),
    resolutionDueAt: due(priority.resolution),
  }
}
