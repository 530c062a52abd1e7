import { type ReplyHistory, recipientOf } from '../actions/plan.js'
import {
  type AutomaticReplies,
  type AutomaticRepliesAhead,
  automaticRepliesSince,
  type ReplyWindows,
} from '../store/reply-caps-store.js'
import type { Sql } from '../store/sql.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'

/** The windows the reply caps count over at `now`. */
export function replyWindows(rulebook: Rulebook, now: Date): ReplyWindows {
  const caps = rulebook.settings.automatic_replies
  return {
    since: now.getTime() - caps.window,
    onceADaySince: now.getTime() - caps.out_of_hours_every,
  }
}

// How much older the windows read ahead may be than the message's own: the read is the slice's
// (its clock read as it began), the message is triaged a few milliseconds later. Counted from
// a moment that early, a reply sent right at the window's start may count once more.
const AHEAD_MS = 1000

/**
 * What the reply caps and the "just answered" check need, read only for a decision that asks
 * them: one with an automatic reply (the caps), or a closing alone (was it just answered?).
 * Most messages need neither. The counts come from the message's read-ahead when it made
 * them (PostgreSQL: `ahead`), for the same recipient and windows at most `AHEAD_MS` older;
 * otherwise from a statement of their own.
 */
export async function replyHistory(
  db: Sql,
  subject: TriageSubject,
  decision: Decision,
  rulebook: Rulebook,
  now: Date,
  ahead?: AutomaticRepliesAhead,
): Promise<ReplyHistory | undefined> {
  if (decision.reply === null && !decision.acts.includes('closing')) return undefined
  const windows = replyWindows(rulebook, now)
  const kind = decision.reply?.kind
  const onceADay = kind === 'out_of_hours' || kind === 'welcome'
  const recipient = recipientOf(subject)
  const automatic: AutomaticReplies =
    ahead && usable(ahead, recipient, windows)
      ? { ...ahead, onceADay: onceADay ? ahead.onceADay : new Set() }
      : await automaticRepliesSince(
          db,
          { conversationId: subject.conversation.id, recipient },
          windows.since,
          onceADay ? windows.onceADaySince : null,
        )
  return {
    automaticToConversation: automatic.toConversation,
    automaticToRecipient: automatic.toRecipient,
    onceADay: () => automatic.onceADay,
    lastAgentReplyAt: subject.conversation.lastAgentReplyAt,
  }
}

/** Whether the conversation got an answer (automatic, or from a person) within `window`. */
export function answeredLately(
  history: ReplyHistory | undefined,
  now: Date,
  window: number,
): boolean {
  if (!history) return false
  if (history.automaticToConversation > 0) return true
  return history.lastAgentReplyAt !== null && now.getTime() - history.lastAgentReplyAt < window
}

function usable(ahead: AutomaticRepliesAhead, recipient: string, windows: ReplyWindows): boolean {
  const within = (then: number, now: number) => then <= now && now - then <= AHEAD_MS
  return (
    ahead.recipient === recipient &&
    within(ahead.windows.since, windows.since) &&
    within(ahead.windows.onceADaySince, windows.onceADaySince)
  )
}
