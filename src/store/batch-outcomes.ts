import type { NormalizedMessage } from '../contracts/message.js'
import type { Delivery, PersistResult } from './ingest-store.js'

// What PostgreSQL's ways of storing a batch of deliveries together share: which deliveries and
// messages of the batch count, and what each delivery's sender is told. The result is always
// what storing the deliveries one after another, in the batch's order, gives.

/** A delivery of a group commit's batch, with when it arrived. */
export type Stored = { delivery: Delivery; now: Date }

/**
 * A delivery stored with the batch's statements: one with no events whose messages are all
 * inbound and thread by conversation id alone. (An agent's answer sets the first response; an
 * email's references thread it: those go the one-at-a-time way.)
 */
export function plain(delivery: Delivery): boolean {
  return (
    delivery.events.length === 0 &&
    delivery.messages.every(
      (m) => m.direction === 'inbound' && !m.threadRefs?.some((ref) => ref.length > 0),
    )
  )
}

export const key = (channel: string, id: string) => `${channel}\u0000${id}`

/** The rows' values column by column: one array per placeholder of an `unnest`. */
export function columns<T>(
  rows: readonly T[],
  pick: readonly ((row: T) => string | number | null)[],
) {
  return pick.map((column) => rows.map(column))
}

/**
 * A join to the row of `table` whose channel and external id are those of relation `of` (its
 * unique key), read by a seek of that key for each row of `of`: `left` keeps rows that find
 * none. Written as a lateral subquery with a limit so that the plan cannot be another. A batch
 * is a few rows, but a plain join is planned for the ten an `unnest` is assumed to give: while
 * the table is small (a business's first few hundred people), PostgreSQL reads all of it
 * and hashes it instead, a few hundred microseconds a statement (docs/performance.md).
 */
export const byKey = (
  table: 'contacts' | 'conversations' | 'messages',
  as: string,
  of: string,
  keys: { channel: string; external: string },
  select: string,
  left = false,
) =>
  `${left ? 'left' : 'cross'} join lateral (select ${select} from ${table} ${as}
      where ${as}.channel = ${of}.${keys.channel} and ${as}.external_id = ${of}.${keys.external}
      limit 1) ${as}${left ? ' on true' : ''}`

/**
 * Placeholders for arrays of these types, as `unnest`'s arguments, each in a subquery of its
 * own so the planner never sees their lengths. A prepared statement is planned for its
 * values its first five times, and from then on kept planned for any values unless plans for
 * the values looked cheaper: a plan for a batch of one delivery does, so a connection whose
 * first batches were small planned the statement again for every batch (0.8 ms each, about
 * the time of running it). Unseen, every length is the same ten rows to the planner, and the
 * kept plan wins (`kept-plans.pg.test.ts`).
 */
export const unseen = (types: readonly string[]) =>
  types.map((type) => `(select ?::${type}[])`).join(', ')

/**
 * A message's person and conversation, by their keys, and the person's details as the message
 * gives them: in that order, in the batch statements' `unnest`.
 */
export const PERSON_AND_CONVERSATION: readonly ((f: {
  message: NormalizedMessage
}) => string | null)[] = [
  (f) => f.message.contactExternalId,
  (f) => f.message.conversationExternalId,
  (f) => f.message.contact.name ?? null,
  (f) => f.message.contact.email ?? null,
  (f) => f.message.contact.phone ?? null,
]

/**
 * A message's columns past its keys, in the order of the batch statements' `unnest`: direction,
 * author role, text, subject, language, attachments, automated, triage, meta, sent at,
 * received at, raw hash, and when its delivery arrived.
 */
export const MESSAGE_CONTENT: readonly ((f: FirstMessage) => string | number | null)[] = [
  (f) => f.message.direction,
  (f) => f.message.authorRole,
  (f) => f.message.text,
  (f) => f.message.subject ?? null,
  (f) => f.message.language,
  (f) => JSON.stringify(f.message.attachments),
  (f) => (f.message.automated ? 1 : 0),
  (f) => (f.message.triage ? 1 : 0),
  (f) => JSON.stringify(f.message.meta),
  (f) => f.sentAt,
  (f) => f.receivedAt,
  (f) => f.message.rawHash,
  (f) => f.at,
]

/** The types of `MESSAGE_CONTENT`'s columns, in its order (for `unseen`). */
export const MESSAGE_CONTENT_TYPES = [
  ...Array<string>(6).fill('text'),
  'smallint',
  'smallint',
  'text',
  'bigint',
  'bigint',
  'text',
  'bigint',
] as const

/**
 * The CTEs that insert the messages of relation `from` (their columns, `delivery_id` the
 * delivery's row, and `at` and `ord`) in `ord`er, so ids follow the batch's order, and
 * stamp each conversation with its newest one stored now, as `touchConversation` does. A
 * message the store has (another instance stored it meanwhile) is skipped, and stamps nothing.
 */
export const insertAndStamp = (from: string) => `inserted as (
    insert into messages (channel, external_id, conversation_id, contact_id, delivery_id,
      direction, author_role, text, subject, language, attachments, automated, triage, meta,
      sent_at, received_at, raw_hash)
    select channel, external_id, conversation_id, contact_id, delivery_id, direction,
      author_role, text, subject, language, attachments, automated, triage, meta, sent_at,
      received_at, raw_hash
      from ${from} order by ord
    on conflict (channel, external_id) do nothing
    returning id, channel, external_id
  ), touched as (
    update conversations c
       set last_inbound_at = greatest(coalesce(c.last_inbound_at, 0), v.sent), updated_at = v.at
      from (select s.conversation_id as id, max(s.sent_at) as sent, max(s.at) as at
              from ${from} s join inserted i on i.channel = s.channel and i.external_id = s.external_id
             group by s.conversation_id) as v
     where c.id = v.id
  )`

/**
 * Which of the batch's deliveries are duplicates: those the store had (not among `stored`, the
 * ids of the deliveries stored now by channel and delivery id) and every repeat of one earlier
 * in the batch.
 */
export function duplicatesOf(
  batch: readonly Stored[],
  stored: ReadonlyMap<string, number>,
): boolean[] {
  const seen = new Set<string>()
  return batch.map(({ delivery }) => {
    if (delivery.deliveryId === null) return false
    const k = key(delivery.channel, delivery.deliveryId)
    const first = !seen.has(k)
    seen.add(k)
    return !first || !stored.has(k)
  })
}

/** A message of the batch as it would be stored, with its delivery's place in the batch. */
export type FirstMessage = {
  message: NormalizedMessage
  item: number
  at: number
  sentAt: number
  receivedAt: number
}

/**
 * The messages of the batch's deliveries that are not duplicates, the first of equal ones, in
 * the batch's order (their ids will follow it).
 */
export function firstMessages(
  batch: readonly Stored[],
  duplicate: readonly boolean[] = [],
): FirstMessage[] {
  const seen = new Set<string>()
  const firsts: FirstMessage[] = []
  batch.forEach(({ delivery, now }, item) => {
    if (duplicate[item]) return
    for (const message of delivery.messages) {
      const k = key(message.channel, message.externalId)
      if (seen.has(k)) continue
      seen.add(k)
      firsts.push(toStore(message, item, now))
    }
  })
  return firsts
}

/** A message of the batch's `item`th delivery, which arrived `now`, as it would be stored. */
export function toStore(message: NormalizedMessage, item: number, now: Date): FirstMessage {
  // A sender's clock may say anything: a message never counts as written after it arrived.
  const receivedAt = Date.parse(message.receivedAt)
  const sentAt = Math.min(Date.parse(message.sentAt), receivedAt)
  return { message, item, at: now.getTime(), sentAt, receivedAt }
}

/**
 * What each delivery's sender is told: a duplicate, or the ids its messages (among `firsts`)
 * got (`idOf`: undefined for a message the store already had).
 */
export function outcomesOf(
  batch: readonly Stored[],
  duplicate: readonly boolean[],
  firsts: readonly FirstMessage[],
  idOf: (first: FirstMessage) => number | undefined,
): PersistResult[] {
  const ids = new Map<FirstMessage, number>()
  for (const first of firsts) {
    const id = idOf(first)
    if (id !== undefined) ids.set(first, id)
  }
  return batch.map(({ delivery }, item): PersistResult => {
    if (duplicate[item]) return { outcome: 'duplicate' }
    const mine = firsts.filter((f) => f.item === item && ids.has(f))
    return {
      outcome: 'stored',
      messageIds: mine.map((f) => ids.get(f)!),
      triageJobs: mine.filter((f) => f.message.triage).length,
      duplicateMessages: delivery.messages.length - mine.length,
    }
  })
}
