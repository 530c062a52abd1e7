import type { NormalizedMessage } from '../contracts/message.js'
import {
  byKey,
  columns,
  duplicatesOf,
  type FirstMessage,
  firstMessages,
  insertAndStamp,
  key,
  MESSAGE_CONTENT,
  MESSAGE_CONTENT_TYPES,
  outcomesOf,
  plain,
  type Stored,
  unseen,
} from './batch-outcomes.js'
import type { PersistResult } from './ingest-store.js'
import { storingMessages, turnKey, waitForTurn } from './one-at-a-time.js'
import type { Sql, SqlValue } from './sql.js'

/**
 * PostgreSQL's group commit: a batch of deliveries stored in a handful of statements over the
 * whole batch (its values passed as arrays and unnested) instead of about six per message. On
 * PostgreSQL every statement is a round trip through the driver, the socket and the server,
 * and those round trips were most of what storing cost there; SQLite's statements are
 * function calls, and it keeps the path of one delivery at a time (`persistDelivery`).
 *
 * The result is what storing the deliveries one after another, in the batch's order, gives:
 * the first of two equal deliveries or messages is stored, the other is a duplicate; a
 * contact's details end as its last message left them; message ids follow the batch's order.
 * Deliveries that carry events, or messages that are not plain inbound ones (an agent's
 * answer sets the first response; an email's references thread it), go the one-at-a-time way,
 * in their place in the order.
 *
 * The batch takes the storing turn (`storingMessages`) before it writes anything: with its
 * first read when it begins with plain deliveries. A failure here fails the whole batch: the
 * caller stores it again one delivery at a time, each in a savepoint.
 */
export async function persistTogether<T extends Stored>(
  tx: Sql,
  batch: readonly T[],
  /** Stores one delivery the other way, in `tx` (`persistDelivery`). */
  one: (tx: Sql, item: T) => Promise<PersistResult>,
): Promise<PersistResult[]> {
  const results: PersistResult[] = []
  let ourTurn = false
  let run: T[] = []
  const flushRun = async () => {
    if (run.length === 0) return
    results.push(...(await persistPlain(tx, run, !ourTurn)))
    ourTurn = true
    run = []
  }
  for (const item of batch) {
    if (plain(item.delivery)) {
      run.push(item)
      continue
    }
    await flushRun()
    if (!ourTurn) await storingMessages(tx)
    ourTurn = true
    results.push(await one(tx, item))
  }
  await flushRun()
  return results
}

type Pending = FirstMessage & { deliveryRowId: number | null }

async function persistPlain(
  tx: Sql,
  batch: readonly Stored[],
  takeTurn: boolean,
): Promise<PersistResult[]> {
  const found = await lookUp(tx, batch, takeTurn)
  const deliveryRows = found.deliveries
  const duplicate = duplicatesOf(batch, deliveryRows)

  // The batch's messages, the first of equal ones, in order, but those the hub has already.
  const pending: Pending[] = []
  for (const { item, message, at, sentAt, receivedAt } of firstMessages(batch, duplicate)) {
    if (found.messages.has(key(message.channel, message.externalId))) continue
    const { delivery } = batch[item]!
    const deliveryRowId =
      delivery.deliveryId === null
        ? null
        : deliveryRows.get(key(delivery.channel, delivery.deliveryId))!
    pending.push({ message, item, deliveryRowId, at, sentAt, receivedAt })
  }

  let byKey = new Map<string, number>()
  if (pending.length > 0) {
    const contacts = await contactIds(tx, pending, found.contacts)
    const conversations = await conversationIds(tx, pending, contacts, found.conversations)
    byKey = await idsByKey(tx, INSERT_MESSAGES, [
      ...columns(pending, [
        (p) => p.message.channel,
        (p) => p.message.externalId,
        (p) => conversations.get(conversationKey(p.message))!,
        (p) => contacts.get(contactKey(p.message))!,
        (p) => p.deliveryRowId,
      ]),
      ...columns(pending, MESSAGE_CONTENT),
    ])
  }
  return outcomesOf(batch, duplicate, pending, (p) =>
    byKey.get(key(p.message.channel, p.message.externalId)),
  )
}

/**
 * The messages, inserted in the batch's order (ids follow it), and each conversation stamped
 * with its newest one stored now, as `touchConversation` does: one statement. (A message
 * another instance stored meanwhile is skipped, and stamps nothing.)
 */
const INSERT_MESSAGES = `with u as (
    select * from unnest(${unseen(['text', 'text', 'bigint', 'bigint', 'bigint'])},
      ${unseen(MESSAGE_CONTENT_TYPES)})
      with ordinality as u(channel, external_id, conversation_id, contact_id, delivery_id,
        direction, author_role, text, subject, language, attachments, automated, triage, meta,
        sent_at, received_at, raw_hash, at, ord)
  ), ${insertAndStamp('u')}
  select id, channel, external_id as "externalId" from inserted`

/** What the batch's messages find stored, by channel and external id. */
type Found = {
  messages: Set<string>
  contacts: Map<string, Details & { id: number }>
  conversations: Map<string, number>
  /** The ids of the deliveries stored now, by channel and delivery id (known ones are absent). */
  deliveries: Map<string, number>
}

/** A relation's columns of the unique key of messages, contacts and conversations. */
const KEYS = { channel: 'channel', external: 'external_id' }
/** Placeholders for such keys: channels and external ids. */
const PAIR = unseen(['text', 'text'])

/**
 * Which of the batch's messages the hub has, and their contacts and conversations, in one
 * read that also stores the batch's deliveries (`webhook_deliveries`, the dedupe of whole
 * deliveries); with the storing turn first when `takeTurn` (the insert reads the turn's row:
 * it waits for the turn). (The read's snapshot may be older than the turn: what another
 * instance stored meanwhile only makes a write below find it, and every one of them is an
 * upsert; a delivery another instance is storing makes the insert wait for its commit.)
 */
async function lookUp(tx: Sql, batch: readonly Stored[], takeTurn: boolean): Promise<Found> {
  const messages = batch.flatMap(({ delivery }) => delivery.messages)
  const pairs = (keyOf: (m: NormalizedMessage) => string) => [
    messages.map((m) => m.channel),
    messages.map(keyOf),
  ]
  const withId = batch.filter(({ delivery }) => delivery.deliveryId !== null)
  const row = await tx.get<{
    m: [string, string][] | null
    k: unknown[][] | null
    c: unknown[][] | null
    d: [number, string, string][] | null
  }>(
    `with turn as materialized (select ${takeTurn ? waitForTurn : 'null'} as turn),
       delivered as (
         insert into webhook_deliveries (channel, delivery_id, raw_hash, message_count, received_at)
         select u.* from unnest(${unseen(['text', 'text', 'text', 'bigint', 'bigint'])}) as u,
           turn
         on conflict do nothing returning id, channel, delivery_id)
     select (select json_agg(json_build_array(t.channel, t.external_id))
          from unnest(${PAIR}) as k(channel, external_id)
          ${byKey('messages', 't', 'k', KEYS, 'channel, external_id')}) as m,
       (select json_agg(json_build_array(c.id, c.channel, c.external_id, c.name, c.email, c.phone))
          from (select distinct * from unnest(${PAIR})) k(channel, external_id)
          ${byKey('contacts', 'c', 'k', KEYS, 'id, channel, external_id, name, email, phone')}) as k,
       (select json_agg(json_build_array(c.id, c.channel, c.external_id))
          from (select distinct * from unnest(${PAIR})) k(channel, external_id)
          ${byKey('conversations', 'c', 'k', KEYS, 'id, channel, external_id')}) as c,
       (select json_agg(json_build_array(id, channel, delivery_id)) from delivered) as d
     from turn`,
    [
      ...(takeTurn ? [turnKey('storing')] : []),
      ...columns(withId, [
        (i) => i.delivery.channel,
        (i) => i.delivery.deliveryId,
        (i) => i.delivery.rawHash,
        (i) => i.delivery.messages.length,
        (i) => i.now.getTime(),
      ]),
      ...pairs((m) => m.externalId),
      ...pairs((m) => m.contactExternalId),
      ...pairs((m) => m.conversationExternalId),
    ],
  )
  return {
    messages: new Set((row?.m ?? []).map(([channel, id]) => key(channel, id))),
    contacts: new Map(
      (row?.k ?? []).map(([id, channel, externalId, name, email, phone]) => [
        key(channel as string, externalId as string),
        { id: id as number, name, email, phone } as Details & { id: number },
      ]),
    ),
    conversations: new Map(
      (row?.c ?? []).map(([id, channel, externalId]) => [
        key(channel as string, externalId as string),
        id as number,
      ]),
    ),
    deliveries: new Map(
      (row?.d ?? []).map(([id, channel, deliveryId]) => [key(channel, deliveryId), id]),
    ),
  }
}

const contactKey = (m: NormalizedMessage) => key(m.channel, m.contactExternalId)
const conversationKey = (m: NormalizedMessage) => key(m.channel, m.conversationExternalId)

type Details = { name: string | null; email: string | null; phone: string | null }

/**
 * The messages' contacts, created or given the details they lacked, as storing the messages
 * one after another would leave them: each message's details replace what it gives and keep
 * what it does not; `updated_at` is when a message last changed one. A known contact none of
 * whose messages changed anything is only read.
 */
async function contactIds(
  tx: Sql,
  pending: readonly Pending[],
  known: ReadonlyMap<string, Details & { id: number }>,
): Promise<Map<string, number>> {
  const byContact = new Map<string, Pending[]>()
  for (const p of pending) {
    const k = contactKey(p.message)
    const list = byContact.get(k)
    if (list) list.push(p)
    else byContact.set(k, [p])
  }
  const ids = new Map<string, number>()
  const write: { message: NormalizedMessage; details: Details; created: number; at: number }[] = []
  for (const [k, list] of byContact) {
    const row = known.get(k)
    let details: Details = row ?? { name: null, email: null, phone: null }
    let changedAt: number | null = row ? null : list[0]!.at
    for (const { message, at } of list) {
      const given = message.contact
      const next = {
        name: given.name ?? details.name,
        email: given.email ?? details.email,
        phone: given.phone ?? details.phone,
      }
      if (
        next.name !== details.name ||
        next.email !== details.email ||
        next.phone !== details.phone
      )
        changedAt = at
      details = next
    }
    if (row && changedAt === null) ids.set(k, row.id)
    else write.push({ message: list[0]!.message, details, created: list[0]!.at, at: changedAt! })
  }
  if (write.length === 0) return ids
  return idsByKey(
    tx,
    `insert into contacts (channel, external_id, name, email, phone, created_at, updated_at)
     select c, e, n, m, p, f, a
       from unnest(${unseen([...Array<string>(5).fill('text'), 'bigint', 'bigint'])})
         as u(c, e, n, m, p, f, a)
     on conflict (channel, external_id) do update set
       name = coalesce(excluded.name, contacts.name),
       email = coalesce(excluded.email, contacts.email),
       phone = coalesce(excluded.phone, contacts.phone),
       updated_at = excluded.updated_at
     returning id, channel, external_id as "externalId"`,
    columns(write, [
      (w) => w.message.channel,
      (w) => w.message.contactExternalId,
      (w) => w.details.name,
      (w) => w.details.email,
      (w) => w.details.phone,
      (w) => w.created,
      (w) => w.at,
    ]),
    ids,
  )
}

/** The messages' conversations; a new one belongs to its first message's contact. */
async function conversationIds(
  tx: Sql,
  pending: readonly Pending[],
  contacts: ReadonlyMap<string, number>,
  known: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const first = new Map<string, Pending>()
  for (const p of pending) {
    const k = conversationKey(p.message)
    if (!first.has(k)) first.set(k, p)
  }
  const list = [...first.values()]
  const ids = new Map<string, number>()
  for (const p of list) {
    const id = known.get(conversationKey(p.message))
    if (id !== undefined) ids.set(conversationKey(p.message), id)
  }
  const missing = list.filter((p) => !ids.has(conversationKey(p.message)))
  if (missing.length === 0) return ids
  return idsByKey(
    tx,
    `insert into conversations (channel, external_id, contact_id, language, created_at, updated_at)
     select c, e, k, l, a, a
       from unnest(${unseen(['text', 'text', 'bigint', 'text', 'bigint'])}) as u(c, e, k, l, a)
     on conflict (channel, external_id) do update set updated_at = excluded.updated_at
     returning id, channel, external_id as "externalId"`,
    columns(missing, [
      (p) => p.message.channel,
      (p) => p.message.conversationExternalId,
      (p) => contacts.get(contactKey(p.message))!,
      (p) => p.message.language,
      (p) => p.at,
    ]),
    ids,
  )
}

/** The ids of the rows a statement returns (with their channel and external id), by key. */
async function idsByKey(
  tx: Sql,
  text: string,
  values: SqlValue[],
  into = new Map<string, number>(),
): Promise<Map<string, number>> {
  const rows = await tx.all<{ id: number; channel: string; externalId: string }>(text, values)
  for (const row of rows) into.set(key(row.channel, row.externalId), row.id)
  return into
}
