import {
  byKey,
  columns,
  duplicatesOf,
  firstMessages,
  insertAndStamp,
  key,
  MESSAGE_CONTENT,
  MESSAGE_CONTENT_TYPES,
  outcomesOf,
  PERSON_AND_CONVERSATION,
  plain,
  type Stored,
  toStore,
  unseen,
} from './batch-outcomes.js'
import type { PersistResult } from './ingest-store.js'
import { turnKey, waitForTurn } from './one-at-a-time.js'
import type { Sql } from './sql.js'

/**
 * PostgreSQL's group commit in one statement, committed on its own, for the usual batch: plain
 * deliveries (`plain`) from people and conversations the hub knows, whose messages change none
 * of their details. The statement checks that itself and then takes the storing turn, stores
 * the deliveries (the dedupe of whole ones), the messages of those that are new and the
 * conversations' stamps, and commits: the turn is held while PostgreSQL runs the statement and
 * commits it, never across a round trip to the hub, so instances storing side by side wait for
 * each other for that long only (and a batch costs one round trip where a transaction costs
 * four). Null when the batch is not such a batch: nothing was written, and the caller stores
 * it the other way (`persistTogether`, in a transaction).
 *
 * The result is what storing the deliveries one after another gives, as there.
 */
export async function persistAtOnce(
  db: Sql,
  batch: readonly Stored[],
): Promise<PersistResult[] | null> {
  if (db.dialect !== 'postgres' || !batch.every(({ delivery }) => plain(delivery))) return null
  // A repeat of a delivery earlier in the batch is a duplicate whatever the store holds: only
  // first ones are sent, with all their messages (the statement tells which deliveries it
  // stored, and keeps the first of equal messages among theirs).
  const everyDelivery = new Map(
    batch.map(({ delivery }) => [key(delivery.channel, delivery.deliveryId ?? ''), 0]),
  )
  const repeats = duplicatesOf(batch, everyDelivery)
  const items = batch.flatMap((b, item) =>
    b.delivery.deliveryId !== null && !repeats[item] ? [{ ...b, item }] : [],
  )
  const messages = batch.flatMap(({ delivery, now }, item) =>
    repeats[item] ? [] : delivery.messages.map((m) => toStore(m, item, now)),
  )
  const row = await db.get<{
    go: boolean
    d: [number, string, string][] | null
    m: [number, string, string][] | null
  }>(STORE_AT_ONCE, [
    ...columns(items, [
      (i) => i.item,
      (i) => i.delivery.channel,
      (i) => i.delivery.deliveryId,
      (i) => i.delivery.rawHash,
      (i) => i.delivery.messages.length,
      (i) => i.now.getTime(),
    ]),
    ...columns(messages, [
      (f) => f.item,
      (f) => f.message.channel,
      (f) => f.message.externalId,
      ...PERSON_AND_CONVERSATION,
    ]),
    ...columns(messages, MESSAGE_CONTENT),
    turnKey('storing'),
  ])
  if (!row?.go) return null
  const delivered = new Map(
    (row.d ?? []).map(([id, channel, deliveryId]) => [key(channel, deliveryId), id]),
  )
  const stored = new Map(
    (row.m ?? []).map(([id, channel, externalId]) => [key(channel, externalId), id]),
  )
  const duplicate = duplicatesOf(batch, delivered)
  return outcomesOf(batch, duplicate, firstMessages(batch, duplicate), (f) =>
    stored.get(key(f.message.channel, f.message.externalId)),
  )
}

// Each message's contact and conversation, by their keys (`byKey`).
const CONTACT = byKey(
  'contacts',
  'k',
  'u',
  { channel: 'channel', external: 'contact_external_id' },
  'id, name, email, phone',
  true,
)
const CONVERSATION = byKey(
  'conversations',
  'c',
  'u',
  { channel: 'channel', external: 'conversation_external_id' },
  'id',
  true,
)

/**
 * `go`: every message's contact and conversation exist, and no message gives a contact a name,
 * email or phone other than the one it has (what storing it would change). Only then is the
 * turn taken and anything written: each write reads the turn's row. A message is stored when
 * its delivery was (or it came without a delivery id) and no earlier message of the batch
 * that was stored has its id; one the store had is skipped by the insert.
 */
const STORE_AT_ONCE = `with d as (
    select * from unnest(${unseen(['int', 'text', 'text', 'text', 'bigint', 'bigint'])})
      as d(item, channel, delivery_id, raw_hash, message_count, received_at)
  ), u as (
    select * from unnest(${unseen(['int', ...Array<string>(7).fill('text')])},
      ${unseen(MESSAGE_CONTENT_TYPES)})
      with ordinality as u(item, channel, external_id, contact_external_id,
        conversation_external_id, name, email, phone, direction, author_role, text, subject,
        language, attachments, automated, triage, meta, sent_at, received_at, raw_hash, at, ord)
  ), r as materialized (
    select u.*, k.id as contact_id, c.id as conversation_id,
      k.id is not null and c.id is not null
        and (u.name is null or u.name is not distinct from k.name)
        and (u.email is null or u.email is not distinct from k.email)
        and (u.phone is null or u.phone is not distinct from k.phone) as known
      from u
      ${CONTACT}
      ${CONVERSATION}
  ), go as materialized (
    select coalesce(bool_and(known), true) as go from r
  ), turn as materialized (
    select ${waitForTurn} as turn from go where go
  ), delivered as (
    insert into webhook_deliveries (channel, delivery_id, raw_hash, message_count, received_at)
    select d.channel, d.delivery_id, d.raw_hash, d.message_count, d.received_at
      from d, turn order by d.item
    on conflict do nothing returning id, channel, delivery_id
  ), q as (
    select r.*, x.id as delivery_id,
      row_number() over (partition by r.channel, r.external_id order by r.ord) as nth
      from r cross join turn
      left join d on d.item = r.item
      left join delivered x on x.channel = d.channel and x.delivery_id = d.delivery_id
     where d.item is null or x.id is not null
  ), fresh as (
    select * from q where nth = 1
  ), ${insertAndStamp('fresh')}
  select (select go from go) as go,
    (select json_agg(json_build_array(id, channel, delivery_id)) from delivered) as d,
    (select json_agg(json_build_array(id, channel, external_id)) from inserted) as m`
