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

// The counts, for a conversation and a recipient given as SQL (placeholders, or columns of
// the read-ahead's rows).
const counts = (conversation: string, recipient: string) => `(select count(*) from outbox
        where automatic = ? and created_at >= ? and conversation_id = ${conversation}) as conversation,
      (select count(*) from outbox
        where automatic = ? and created_at >= ? and recipient = ${recipient}) as recipient`

// One probe of the partial index per kind: its own condition is written out in each, so
// SQLite uses it.
const probe = (kind: OnceADayReply, conversation = '?') =>
  `exists (select 1 from triage_decisions where conversation_id = ${conversation}
     and created_at >= ? and reply_kind in ('out_of_hours', 'welcome') and reply_kind = '${kind}')`

const WITHOUT_ONCE_A_DAY = `select ${counts('?', '?')}`
const WITH_ONCE_A_DAY = `select ${counts('?', '?')}, ${probe('out_of_hours')} as "outOfHours",
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
  const values = [true, since, to.conversationId, true, since, to.recipient.toLowerCase()]
  const row = await db.get<{
    conversation: number
    recipient: number
    outOfHours?: unknown
    welcome?: unknown
  }>(
    onceADaySince === null ? WITHOUT_ONCE_A_DAY : WITH_ONCE_A_DAY,
    onceADaySince === null
      ? values
      : [...values, to.conversationId, onceADaySince, to.conversationId, onceADaySince],
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

/** The windows the caps count over: since `since`, and the once-a-day replies since `onceADaySince`. */
export type ReplyWindows = { since: number; onceADaySince: number }

/**
 * The caps' counts read with a message ahead of its triage (PostgreSQL's read-ahead,
 * `triage-reads.ts`), for the recipient the read worked out and over the windows it was given.
 */
export type AutomaticRepliesAhead = AutomaticReplies & {
  recipient: string
  windows: ReplyWindows
}

// `recipientOf` (plan-reply.ts) in SQL, over the read-ahead's message `m` and contact `k`.
// Its lowercase may differ from JavaScript's on letters beyond ASCII: whoever uses the counts
// compares the recipient first.
const RECIPIENT = `lower(coalesce(k.email, k.phone, m.channel || ':' || k.external_id))`

/**
 * The caps' columns of a read-ahead row (its conversation `c`, contact `k`, message `m`), all
 * of them: the read does not know yet which messages will be answered. Five index probes a
 * message, where reading them later costs a statement (a round trip) each answered one.
 */
export const REPLIES_AHEAD = `${RECIPIENT},
      ${counts('c.id', RECIPIENT)},
      ${probe('out_of_hours', 'c.id')}, ${probe('welcome', 'c.id')}`

/** The values of `REPLIES_AHEAD`'s placeholders, in order. */
export const repliesAheadValues = (windows: ReplyWindows) => [
  true,
  windows.since,
  true,
  windows.since,
  windows.onceADaySince,
  windows.onceADaySince,
]

/** `REPLIES_AHEAD`'s columns of a row, from `at` on. */
export function readRepliesAhead(
  row: readonly unknown[],
  at: number,
  windows: ReplyWindows,
): AutomaticRepliesAhead {
  return {
    recipient: row[at] as string,
    toConversation: Number(row[at + 1]),
    toRecipient: Number(row[at + 2]),
    onceADay: onceADayOf(row[at + 3], row[at + 4]),
    windows,
  }
}
