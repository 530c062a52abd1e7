import { type Effect, upstreamOfKind } from '../contracts/effect.js'
import { tableRows } from './rows.js'
import { outbox } from './schema.js'
import { list, type Sql, upstreamOf } from './sql.js'

export const DEFAULT_MAX_ATTEMPTS = 8

export type OutboxRow = typeof outbox.$inferSelect
export const outboxRows = tableRows(outbox)
const EFFECT = `select ${outboxRows.select('o')} from outbox o`

/** Adds effects; ones whose key is already queued are skipped. Returns how many were new. */
export async function enqueueEffects(
  db: Sql,
  effects: readonly Effect[],
  now: Date,
): Promise<number> {
  const at = now.getTime()
  let added = 0
  for (const effect of effects) {
    const result = await db.run(
      `insert into outbox (idempotency_key, kind, subject, payload, after_key, conversation_id,
         recipient, automatic, max_attempts, next_attempt_at, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
      [
        effect.key,
        effect.kind,
        effect.subject,
        JSON.stringify(effect.payload),
        effect.after ?? null,
        effect.conversationId ?? null,
        effect.recipient?.toLowerCase() ?? null,
        effect.automatic ?? false,
        effect.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        at,
        at,
        at,
      ],
    )
    added += result.changes
  }
  return added
}

/** An effect that waits for none, or whose prerequisite is done (`p` joined on its key). */
const READY_TO_RUN = `(o.after_key is null or p.status = 'done')`

/**
 * Effects of one conversation toward one upstream run one at a time, in the order they were
 * queued, on every instance: an effect waits while an earlier one of its conversation and
 * upstream is running or still to run (a retry included). One that waits on a dead letter
 * does not hold the others up.
 */
function inTurn(db: Pick<Sql, 'dialect'>): string {
  return `(o.conversation_id is null or not exists (
    select 1 from outbox e left join outbox ep on ep.idempotency_key = e.after_key
     where e.conversation_id = o.conversation_id and e.id < o.id
       and ${upstreamOf(db, 'e.kind')} = ${upstreamOf(db, 'o.kind')}
       and (e.status = 'in_flight'
         or (e.status = 'pending' and (ep.status is null or ep.status <> 'dead')))))`
}

/** Effects claimed after one of their conversation's, at most, in one claim. */
const FOLLOWERS = 15

/**
 * Claims due effects for `leaseMs`. An effect waiting on another runs only once that one is
 * done; an effect left in flight by a crashed process is claimed again when its lease ends.
 * With each effect come the ones queued after it for its conversation and upstream, to be run
 * in order (`releaseEffects` gives back the ones left when one must wait for a retry).
 */
export function claimDueEffects(
  db: Sql,
  limit: number,
  now: Date,
  leaseMs: number,
  /** Effects this process is running: never claimed again while they run. */
  running: readonly number[] = [],
  /** Upstreams (`chatwoot`) not to claim for now: busy to their limit, or asked to wait. */
  resting: readonly string[] = [],
): Promise<OutboxRow[]> {
  const at = now.getTime()
  return db.transaction(async (tx) => {
    // Two index range reads (outbox_due: status, next_attempt_at) instead of one OR over the
    // whole table: due pending effects, then in-flight ones whose lease ran out.
    const notOurs = running.length > 0 ? `and o.id not in (${list(running)})` : ''
    const awake =
      resting.length > 0 ? `and ${upstreamOf(db, 'o.kind')} not in (${list(resting)})` : ''
    // Instances on one PostgreSQL claim apart: rows another claim holds are skipped, not waited
    // for (on SQLite the claim's transaction runs alone).
    const skipLocked = db.dialect === 'postgres' ? 'for update of o skip locked' : ''
    const pending = await tx.all<{
      id: number
      key: string
      conversation_id: number | null
      kind: string
    }>(
      `select o.id, o.idempotency_key as key, o.conversation_id, o.kind
         from outbox o left join outbox p on p.idempotency_key = o.after_key
        where o.status = 'pending' and o.next_attempt_at <= ? and ${READY_TO_RUN} ${notOurs}
          ${awake} and ${inTurn(db)}
        order by o.next_attempt_at, o.id limit ? ${skipLocked}`,
      [at, ...running, ...resting, limit],
    )
    // Each claimed effect brings the ones queued after it for its conversation and upstream:
    // they run one after the other in this process, and claiming them once saves a claim each.
    const followers: number[] = []
    for (const head of pending) {
      if (head.conversation_id === null) continue
      const next = await tx.all<{
        id: number
        key: string
        after_key: string | null
        after: string | null
        due: number
      }>(
        `select o.id, o.idempotency_key as key, o.after_key, p.status as after,
                o.next_attempt_at as due
           from outbox o left join outbox p on p.idempotency_key = o.after_key
          where o.conversation_id = ? and o.id > ? and o.status = 'pending'
            and ${upstreamOf(db, 'o.kind')} = ?
          order by o.id limit ? ${skipLocked}`,
        [head.conversation_id, head.id, upstreamOfKind(head.kind), FOLLOWERS],
      )
      const keys = new Set([head.key])
      for (const f of next) {
        // In order, up to one that cannot run yet (a retry's wait, a prerequisite elsewhere).
        if (Number(f.due) > at) break
        if (f.after_key !== null && f.after !== 'done' && !keys.has(f.after_key)) break
        followers.push(f.id)
        keys.add(f.key)
      }
    }
    const expired =
      pending.length < limit
        ? await tx.all<{ id: number }>(
            // Taken over in order too: an effect claimed with the one before it (a chain)
            // waits until that one is done, as if it had never been claimed.
            `select o.id from outbox o left join outbox p on p.idempotency_key = o.after_key
              where o.status = 'in_flight' and o.locked_until <= ? and ${READY_TO_RUN}
                ${notOurs} ${awake} and ${inTurn(db)}
              order by o.id limit ? ${skipLocked}`,
            [at, ...running, ...resting, limit - pending.length],
          )
        : []
    const due = [...pending.map((row) => row.id), ...followers, ...expired.map((row) => row.id)]
    if (due.length === 0) return []
    await tx.run(
      `update outbox set status = 'in_flight', locked_until = ?, attempts = attempts + 1,
         updated_at = ? where id in (${list(due)})`,
      [at + leaseMs, at, ...due],
    )
    const rows = await tx.all(`${EFFECT} where o.id in (${list(due)})`, due)
    return rows.map((row) => outboxRows.read(row))
  })
}

/** Gives back claimed effects that did not run: they are claimed again, attempts unspent. */
export async function releaseEffects(db: Sql, ids: readonly number[], now: Date): Promise<void> {
  if (ids.length === 0) return
  await db.run(
    `update outbox set status = 'pending', attempts = attempts - 1, locked_until = null,
       updated_at = ? where id in (${list(ids)}) and status = 'in_flight'`,
    [now.getTime(), ...ids],
  )
}

/**
 * Keeps effects this process is still running ours: a slow upstream call must not let the
 * lease lapse and another claim run the same effect at the same time.
 */
export async function extendLeases(db: Sql, ids: readonly number[], until: number): Promise<void> {
  if (ids.length === 0) return
  await db.run(
    `update outbox set locked_until = ? where id in (${list(ids)}) and status = 'in_flight'`,
    [until, ...ids],
  )
}

export async function markEffectDone(
  db: Sql,
  id: number,
  result: unknown,
  now: Date,
): Promise<void> {
  await markEffectsDone(db, [{ id, result, at: now.getTime() }])
}

/** Several effects done, in one transaction (one commit instead of one each). */
export async function markEffectsDone(
  db: Sql,
  marks: readonly { id: number; result: unknown; at: number }[],
): Promise<void> {
  const one = (sql: Sql, mark: (typeof marks)[number]) =>
    sql.run(
      `update outbox set status = 'done', result = ?, last_error = null, locked_until = null,
         done_at = ?, updated_at = ? where id = ?`,
      [mark.result === undefined ? null : JSON.stringify(mark.result), mark.at, mark.at, mark.id],
    )
  if (marks.length === 1) {
    await one(db, marks[0]!)
    return
  }
  // In id order, as every other update of several effects locks them (no deadlock between them).
  const ordered = [...marks].sort((a, b) => a.id - b.id)
  await db.transaction(async (tx) => {
    for (const mark of ordered) await one(tx, mark)
  })
}

export async function scheduleEffectRetry(
  db: Sql,
  id: number,
  error: string,
  retryAt: Date,
  now: Date,
): Promise<void> {
  await db.run(
    `update outbox set status = 'pending', next_attempt_at = ?, last_error = ?,
       locked_until = null, updated_at = ? where id = ?`,
    [retryAt.getTime(), error.slice(0, 2000), now.getTime(), id],
  )
}

/** Dead letter: kept with its last error until someone replays it. */
export async function markEffectDead(db: Sql, id: number, error: string, now: Date): Promise<void> {
  await db.run(
    `update outbox set status = 'dead', last_error = ?, locked_until = null, updated_at = ?
      where id = ?`,
    [error.slice(0, 2000), now.getTime(), id],
  )
}

export async function listEffects(
  db: Sql,
  filter: { status?: OutboxRow['status']; limit?: number } = {},
): Promise<OutboxRow[]> {
  const rows = await db.all(
    `${EFFECT} ${filter.status ? 'where o.status = ?' : ''}
      order by o.updated_at desc, o.id desc limit ?`,
    [...(filter.status ? [filter.status] : []), filter.limit ?? 100],
  )
  return rows.map((row) => outboxRows.read(row))
}

export async function getEffect(db: Sql, id: number): Promise<OutboxRow | undefined> {
  const row = await db.get(`${EFFECT} where o.id = ?`, [id])
  return row ? outboxRows.read(row) : undefined
}

/** Puts a dead effect back in the queue with a fresh budget of attempts. */
export async function replayEffect(db: Sql, id: number, now: Date): Promise<boolean> {
  const result = await db.run(
    `update outbox set status = 'pending', attempts = 0, next_attempt_at = ?,
       locked_until = null, updated_at = ? where id = ? and status = 'dead'`,
    [now.getTime(), now.getTime(), id],
  )
  return result.changes > 0
}

/**
 * The earliest time a pending effect becomes due, to sleep exactly until then. An effect that
 * waits for another is not counted until that one is done (its time has usually passed, so
 * counting it woke the dispatcher at once, over and over, for as long as the other was retried
 * or dead-lettered): the one it waits for is counted instead, and finishing it wakes the
 * dispatcher.
 */
export async function nextEffectDueAt(db: Sql): Promise<number | null> {
  // The index (status, next_attempt_at) in order, up to the first effect ready to run.
  const row = await db.get<{ at: number }>(
    `select o.next_attempt_at as at from outbox o
       left join outbox p on p.idempotency_key = o.after_key
      where o.status = 'pending' and ${READY_TO_RUN} and ${inTurn(db)}
      order by o.next_attempt_at limit 1`,
  )
  const inFlight = await db.get<{ at: number | null }>(
    `select min(locked_until) as at from outbox where status = 'in_flight'`,
  )
  const candidates = [row?.at, inFlight?.at]
    .filter((v) => v !== null && v !== undefined)
    .map(Number)
  return candidates.length > 0 ? Math.min(...candidates) : null
}

export async function outboxDepth(db: Sql): Promise<Record<OutboxRow['status'], number>> {
  const rows = await db.all<{ status: OutboxRow['status']; n: number }>(
    'select status, count(*) as n from outbox group by status',
  )
  const depth = { pending: 0, in_flight: 0, done: 0, dead: 0 }
  for (const row of rows) depth[row.status] = Number(row.n)
  return depth
}
