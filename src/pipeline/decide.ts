import { describeMoment, isOpen, nextOpen } from '../calendar/business-hours.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import {
  type Decision,
  type IntentClassifier,
  type TextAnalysis,
  type TriageContext,
  triage,
} from '../triage/triage.js'

export type Decided = {
  decision: Decision
  /** When the channel's business opens next, in words, when it is closed now. */
  nextOpen: { es: string; en: string } | null
}

/**
 * Triage of a stored message in its context at `now`: the channel's business hours and the
 * customer's recent complaints. The worker and `centralita dry-run` decide the same way.
 */
export function decide(
  subject: TriageSubject,
  options: {
    rulebook: Rulebook
    classifier: IntentClassifier | null
    /** The message's text analysis, when it was worked out ahead. */
    analysis?: TextAnalysis | undefined
    now: Date
    recentComplaints: TriageContext['recentComplaints']
  },
): Decided {
  const { rulebook, now } = options
  const { message } = subject
  const calendar = rulebook.calendarFor(message.channel)
  // The operator involved: the one the channel names for the message, or the customer's own.
  const operatorOf = (key: string) =>
    typeof message.meta[key] === 'string' ? (message.meta[key] as string) : null
  const assignedOperator = operatorOf('assignedOperator')
  const involved = operatorOf('operatorId') ?? assignedOperator
  const inHours = isOpen(calendar, now)
  const decision = triage(
    {
      text: message.text,
      subject: message.subject,
      channel: message.channel,
      role: message.authorRole as never,
      language: (message.language as 'es' | 'en' | null) ?? null,
      context: {
        inHours,
        recentComplaints: options.recentComplaints,
        // Channels that know the customer's operator (the internal chat) say so in the meta.
        assignedOperator,
        operatorOnImprovementPlan:
          involved !== null && rulebook.escalation.improvement_plan.includes(involved),
      },
    },
    rulebook,
    options.classifier,
    options.analysis,
  )
  const opens = inHours ? null : nextOpen(calendar, now)
  return {
    decision,
    nextOpen: opens
      ? {
          es: describeMoment(opens, calendar, 'es', now),
          en: describeMoment(opens, calendar, 'en', now),
        }
      : null,
  }
}
