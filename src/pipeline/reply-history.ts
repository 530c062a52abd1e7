import { type ReplyHistory, recipientOf } from '../actions/plan.js'
import { automaticRepliesSince } from '../store/reply-caps-store.js'
import type { Sql } from '../store/sql.js'
import type { TriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'

/**
 * What the reply caps and the "just answered" check need, read only for a decision that asks
 * them: one with an automatic reply (the caps), or a closing alone (was it just answered?).
 * Most messages need neither, and skip the counting statement.
 */
export async function replyHistory(
  db: Sql,
  subject: TriageSubject,
  decision: Decision,
  rulebook: Rulebook,
  now: Date,
): Promise<ReplyHistory | undefined> {
  if (decision.reply === null && !decision.acts.includes('closing')) return undefined
  const caps = rulebook.settings.automatic_replies
  const since = now.getTime() - caps.window
  const kind = decision.reply?.kind
  const automatic = await automaticRepliesSince(
    db,
    { conversationId: subject.conversation.id, recipient: recipientOf(subject) },
    since,
    kind === 'out_of_hours' || kind === 'welcome' ? now.getTime() - caps.out_of_hours_every : null,
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
