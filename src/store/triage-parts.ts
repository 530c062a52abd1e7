/**
 * Parts of PostgreSQL's triage queue (`triage-queue.ts`): a message belongs to part
 * `conversation_id % TRIAGE_PARTS`. Changing it needs a migration (the index
 * `messages_triage_part` is on this very expression) and moves conversations between parts.
 */
export const TRIAGE_PARTS = 8

/** A message's part, as the index reads it: its value a placeholder. */
export const IN_PART = `(conversation_id % ${TRIAGE_PARTS}) = ?`

/**
 * Messages of part `part` past `cursor` (SQL expressions), written so that only a range of the
 * index on (part, id) reads them, from the cursor to the part's end, in order (`PART_ORDER`).
 * Written as `part = ? and id > ?`, a plan made for any values may walk the primary key from
 * the cursor on, through every other part's messages (the part's equality makes an order by
 * (part, id) one by id, which the primary key gives too): for a part idle for a long time,
 * every message stored since, at every claim. A row comparison positions the index scan at
 * (part, cursor), where the primary key cannot.
 */
export const partPast = (part: string, cursor: string) =>
  `((conversation_id % ${TRIAGE_PARTS}), id) > (cast(${part} as bigint), cast(${cursor} as bigint))
   and (conversation_id % ${TRIAGE_PARTS}) <= cast(${part} as bigint)`

/** The order of that index, in which `partPast` reads a part. */
export const PART_ORDER = `(conversation_id % ${TRIAGE_PARTS}), id`
