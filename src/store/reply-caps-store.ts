import type { Sql } from './sql.js'

/** Automatic replies sent at most once a day to a conversation (see the routing). */
export type OnceADayReply = 'out_of_hours' | 'welcome'

/** What the automatic-reply caps count, for one conversation and its recipient. */
export type AutomaticReplies = {
  /** Automatic effects queued for the conversation since `since`. */
  toConversation: number
  /** Automatic effects queued for the recipient, on any conversation, since `since`. */
  toRecipient: number
  /** The once-a-day replies the conversation was decided to get since `onceADaySince`. */
  onceADay: ReadonlySet<OnceADayReply>
}

const COUNTS = `(select count(*) from outbox
        where automatic = ? and created_at >= ? and conversation_id = ?) as conversation,
      (select count(*) from outbox
        where automatic = ? and created_at >= ? and recipient = ?) as recipient`

// One probe of the partial index per kind: its own condition is written out in each, so
// SQLite uses it.
const probe = (kind: OnceADayReply) =>
  `exists (select 1 from triage_decisions where conversation_id = ?
     and created_at >= ? and reply_kind in ('out_of_hours', 'welcome') and reply_kind = '${kind}')`

const WITHOUT_ONCE_A_DAY = `select ${COUNTS}`
const WITH_ONCE_A_DAY = `select ${COUNTS}, ${probe('out_of_hours')} as "outOfHours",
       ${probe('welcome')} as welcome`

/**
 * The reply caps' counts in one statement, each on its own index: automatic effects to the
 * conversation and to the recipient since `since`, and, when `onceADaySince` is given, which
 * once-a-day replies went to the conversation since then.
 */
export async function automaticRepliesSince(
  db: Sql,
  to: { conversationId: number; recipient: string },
  since: number,
  onceADaySince: number | null,
): Promise<AutomaticReplies> {
  const counts = [true, since, to.conversationId, true, since, to.recipient.toLowerCase()]
  const row = await db.get<{
    conversation: number
    recipient: number
    outOfHours?: unknown
    welcome?: unknown
  }>(
    onceADaySince === null ? WITHOUT_ONCE_A_DAY : WITH_ONCE_A_DAY,
    onceADaySince === null
      ? counts
      : [...counts, to.conversationId, onceADaySince, to.conversationId, onceADaySince],
  )
  return {
    toConversation: Number(row?.conversation ?? 0),
    toRecipient: Number(row?.recipient ?? 0),
    onceADay: onceADayOf(row?.outOfHours, row?.welcome),
  }
}

const NONE: ReadonlySet<OnceADayReply> = new Set()

function onceADayOf(outOfHours: unknown, welcome: unknown): ReadonlySet<OnceADayReply> {
  if (!outOfHours && !welcome) return NONE
  const kinds = new Set<OnceADayReply>()
  if (outOfHours) kinds.add('out_of_hours')
  if (welcome) kinds.add('welcome')
  return kinds
}
