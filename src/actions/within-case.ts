import { type Level, PRIORITIES, type Priority } from '../triage/rulebook/schema.js'
import type { Decision } from '../triage/triage.js'

/**
 * The open case (ticket) a message's conversation already has, as it stands. Its priority is
 * the most urgent of the ticket's and its messages' so far (a threat in a complaint case makes
 * the case urgent, though the ticket keeps the priority it opened with and its SLA).
 */
export type OpenCase = { number: string; queue: string; priority: string; level: string | null }

const rank = (p: string) => PRIORITIES.indexOf(p as Priority)

/**
 * How a message in a conversation with an open case is handed on: as part of that case. A
 * follow-up ("¿a qué hora abren?" after a legal threat) goes to the case's queue at the case's
 * priority, so it neither takes the case to another team nor lowers it in the inbox. A message
 * more urgent than the case leads instead (its level, if any, has escalated the case). The
 * decision recorded for the message is not changed: only what the admins' tools are told.
 */
export function routeWithinCase(
  decision: Decision,
  open: OpenCase | null,
): { decision: Decision; note: string | null } {
  if (!open) return { decision, note: null }
  if (rank(decision.priority) < rank(open.priority)) {
    return { decision: { ...decision, queue: decision.queue ?? open.queue }, note: null }
  }
  if (decision.queue === open.queue && decision.priority === open.priority) {
    return { decision, note: null }
  }
  return {
    decision: {
      ...decision,
      queue: open.queue,
      priority: open.priority as Priority,
      level: (open.level as Level | null) ?? decision.level,
    },
    note: `part of open case ${open.number}: handed to its queue ${open.queue} at priority ${open.priority}`,
  }
}
