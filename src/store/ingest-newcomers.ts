import {
  columns,
  key,
  PERSON_AND_CONVERSATION,
  plain,
  type Stored,
  unseen,
} from './batch-outcomes.js'
import type { Sql } from './sql.js'

/**
 * The people and conversations a batch of plain deliveries brings that the store lacks,
 * created in one statement committed on its own, without the storing turn (PostgreSQL): the
 * batch can then be stored the usual way (`persistAtOnce`), which holds the turn for its one
 * statement, where the other way holds it from its first read to its commit, over four round
 * trips, and every other instance's deliveries wait that long.
 *
 * What storing the deliveries one after another would create: a person with the details of
 * their first message in the batch, a conversation with its first message's person and
 * language, both stamped with when that message's delivery arrived. Nothing that exists is
 * changed (a batch whose messages change someone's details still goes the other way, which
 * also records when they changed), and deliveries the store had are left out: a repeated
 * delivery creates nothing. Rows are created in key order, so two instances creating the same
 * people at once never wait for each other crosswise.
 *
 * The number of people and conversations created (0 when the batch brings none, or when it
 * is not all plain deliveries).
 */
export async function createNewcomers(db: Sql, batch: readonly Stored[]): Promise<number> {
  if (db.dialect !== 'postgres' || !batch.every(({ delivery }) => plain(delivery))) return 0
  const seen = new Set<string>()
  const firsts = batch.flatMap(({ delivery, now }) =>
    delivery.messages.flatMap((message) => {
      const k = key(message.channel, message.externalId)
      if (seen.has(k)) return []
      seen.add(k)
      return [{ delivery, message, at: now.getTime() }]
    }),
  )
  if (firsts.length === 0) return 0
  const row = await db.get<{ n: number }>(NEWCOMERS, [
    ...columns(firsts, [
      (f) => f.message.channel,
      ...PERSON_AND_CONVERSATION,
      (f) => f.message.language,
      (f) => f.at,
      (f) => f.delivery.deliveryId,
    ]),
  ])
  return Number(row?.n ?? 0)
}

/**
 * `u`: each message of the batch (the first of equal ones), in order, but those of
 * deliveries the store had; `k` and `c`: the people and conversations created, the first
 * message of each deciding its details. A conversation's person is the one just created or,
 * when it existed, the stored one.
 */
const NEWCOMERS = `with u as (
    select u.* from unnest(${unseen([...Array<string>(7).fill('text'), 'bigint', 'text'])})
      with ordinality as u(channel, contact_external_id, conversation_external_id, name, email,
        phone, language, at, delivery_id, ord)
     where u.delivery_id is null or not exists (select 1 from webhook_deliveries w
       where w.channel = u.channel and w.delivery_id = u.delivery_id)
  ), k as (
    insert into contacts (channel, external_id, name, email, phone, created_at, updated_at)
    select channel, contact_external_id, name, email, phone, at, at from (
      select distinct on (channel, contact_external_id) * from u
       where not exists (select 1 from contacts x
         where x.channel = u.channel and x.external_id = u.contact_external_id)
       order by channel, contact_external_id, ord) as f
     order by channel, contact_external_id
    on conflict (channel, external_id) do nothing
    returning id, channel, external_id
  ), c as (
    insert into conversations (channel, external_id, contact_id, language, created_at, updated_at)
    select f.channel, f.conversation_external_id, coalesce(k.id, x.id), f.language, f.at, f.at
      from (select distinct on (channel, conversation_external_id) * from u
             where not exists (select 1 from conversations y
               where y.channel = u.channel and y.external_id = u.conversation_external_id)
             order by channel, conversation_external_id, ord) as f
      left join k on k.channel = f.channel and k.external_id = f.contact_external_id
      left join contacts x on x.channel = f.channel and x.external_id = f.contact_external_id
     where coalesce(k.id, x.id) is not null
     order by f.channel, f.conversation_external_id
    on conflict (channel, external_id) do nothing
    returning id
  )
  select (select count(*) from k) + (select count(*) from c) as n`
