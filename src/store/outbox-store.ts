import { and, asc, desc, eq, gte, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/sqlite-core'
import type { Effect } from '../contracts/effect.js'
import { type Executor, placeholders, prepared, writeTransaction } from './db.js'
import { outbox } from './schema.js'

/** One outbound effect to perform, as planned. */

export const DEFAULT_MAX_ATTEMPTS = 8

export type OutboxRow = typeof outbox.$inferSelect

/** Adds effects; ones whose key is already queued are skipped. Returns how many were new. */
export function enqueueEffects(db: Executor, effects: readonly Effect[], now: Date): number {
  const at = now.getTime()
  let added = 0
  for (const effect of effects) {
    const result = insertEffect(db).run({
      idempotencyKey: effect.key,
      kind: effect.kind,
      subject: effect.subject,
      payload: JSON.stringify(effect.payload),
      afterKey: effect.after ?? null,
      conversationId: effect.conversationId ?? null,
      recipient: effect.recipient?.toLowerCase() ?? null,
      automatic: effect.automatic ?? false,
      maxAttempts: effect.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      nextAttemptAt: at,
      createdAt: at,
      updatedAt: at,
    })
    added += result.changes
  }
  return added
}

const insertEffect = prepared((db) =>
  db
    .insert(outbox)
    .values(
      placeholders([
        'idempotencyKey',
        'kind',
        'subject',
        'payload',
        'afterKey',
        'conversationId',
        'recipient',
        'automatic',
        'maxAttempts',
        'nextAttemptAt',
        'createdAt',
        'updatedAt',
      ]),
    )
    .onConflictDoNothing()
    .prepare(),
)

const prerequisite = alias(outbox, 'prerequisite')
/** An effect that waits for none, or whose prerequisite is done (with `prerequisite` joined). */
const readyToRun = or(isNull(outbox.afterKey), eq(prerequisite.status, 'done'))

/**
 * Claims due effects for `leaseMs`. An effect waiting on another runs only once that one is
 * done; an effect left in flight by a crashed process is claimed again when its lease ends.
 */
export function claimDueEffects(
  db: Executor,
  limit: number,
  now: Date,
  leaseMs: number,
  /** Effects this process is running: never claimed again while they run. */
  running: readonly number[] = [],
): OutboxRow[] {
  const at = now.getTime()
  return writeTransaction(db, (tx) => {
    // Two index range reads (outbox_due: status, next_attempt_at) instead of one OR over the
    // whole table: due pending effects, then in-flight ones whose lease ran out.
    const notOurs = running.length > 0 ? notInArray(outbox.id, [...running]) : undefined
    const pending = tx
      .select({ id: outbox.id })
      .from(outbox)
      .leftJoin(prerequisite, eq(prerequisite.idempotencyKey, outbox.afterKey))
      .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, at), readyToRun, notOurs))
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
      .limit(limit)
      .all()
    const expired =
      pending.length < limit
        ? tx
            .select({ id: outbox.id })
            .from(outbox)
            .where(and(eq(outbox.status, 'in_flight'), lte(outbox.lockedUntil, at), notOurs))
            .orderBy(asc(outbox.id))
            .limit(limit - pending.length)
            .all()
        : []
    const due = [...pending, ...expired]
    if (due.length === 0) return []
    return tx
      .update(outbox)
      .set({
        status: 'in_flight',
        lockedUntil: at + leaseMs,
        attempts: sql`${outbox.attempts} + 1`,
        updatedAt: at,
      })
      .where(
        inArray(
          outbox.id,
          due.map((row) => row.id),
        ),
      )
      .returning()
      .all()
  })
}

/**
 * Keeps effects this process is still running ours: a slow upstream call must not let the
 * lease lapse and another claim run the same effect at the same time.
 */
export function extendLeases(db: Executor, ids: readonly number[], until: number): void {
  if (ids.length === 0) return
  db.update(outbox)
    .set({ lockedUntil: until })
    .where(and(inArray(outbox.id, [...ids]), eq(outbox.status, 'in_flight')))
    .run()
}

export function markEffectDone(db: Executor, id: number, result: unknown, now: Date): void {
  db.update(outbox)
    .set({
      status: 'done',
      result: result === undefined ? null : JSON.stringify(result),
      lastError: null,
      lockedUntil: null,
      doneAt: now.getTime(),
      updatedAt: now.getTime(),
    })
    .where(eq(outbox.id, id))
    .run()
}

export function scheduleEffectRetry(
  db: Executor,
  id: number,
  error: string,
  retryAt: Date,
  now: Date,
): void {
  db.update(outbox)
    .set({
      status: 'pending',
      nextAttemptAt: retryAt.getTime(),
      lastError: error.slice(0, 2000),
      lockedUntil: null,
      updatedAt: now.getTime(),
    })
    .where(eq(outbox.id, id))
    .run()
}

/** Dead letter: kept with its last error until someone replays it. */
export function markEffectDead(db: Executor, id: number, error: string, now: Date): void {
  db.update(outbox)
    .set({
      status: 'dead',
      lastError: error.slice(0, 2000),
      lockedUntil: null,
      updatedAt: now.getTime(),
    })
    .where(eq(outbox.id, id))
    .run()
}

export function listEffects(
  db: Executor,
  filter: { status?: OutboxRow['status']; limit?: number } = {},
): OutboxRow[] {
  return db
    .select()
    .from(outbox)
    .where(filter.status ? eq(outbox.status, filter.status) : undefined)
    .orderBy(desc(outbox.updatedAt), desc(outbox.id))
    .limit(filter.limit ?? 100)
    .all()
}

export function getEffect(db: Executor, id: number): OutboxRow | undefined {
  return db.select().from(outbox).where(eq(outbox.id, id)).get()
}

/** Puts a dead effect back in the queue with a fresh budget of attempts. */
export function replayEffect(db: Executor, id: number, now: Date): boolean {
  const result = db
    .update(outbox)
    .set({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now.getTime(),
      lockedUntil: null,
      updatedAt: now.getTime(),
    })
    .where(and(eq(outbox.id, id), eq(outbox.status, 'dead')))
    .run()
  return result.changes > 0
}

/**
 * The earliest time a pending effect becomes due, to sleep exactly until then. An effect that
 * waits for another is not counted until that one is done (its time has usually passed, so
 * counting it woke the dispatcher at once, over and over, for as long as the other was retried
 * or dead-lettered): the one it waits for is counted instead, and finishing it wakes the
 * dispatcher.
 */
export function nextEffectDueAt(db: Executor): number | null {
  // The index (status, next_attempt_at) in order, up to the first effect ready to run.
  const row = db
    .select({ at: outbox.nextAttemptAt })
    .from(outbox)
    .leftJoin(prerequisite, eq(prerequisite.idempotencyKey, outbox.afterKey))
    .where(and(eq(outbox.status, 'pending'), readyToRun))
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(1)
    .get()
  const inFlight = db
    .select({ at: sql<number | null>`min(${outbox.lockedUntil})` })
    .from(outbox)
    .where(eq(outbox.status, 'in_flight'))
    .get()
  const candidates = [row?.at, inFlight?.at].filter((v): v is number => typeof v === 'number')
  return candidates.length > 0 ? Math.min(...candidates) : null
}

export function outboxDepth(db: Executor): Record<OutboxRow['status'], number> {
  const rows = db
    .select({ status: outbox.status, n: sql<number>`count(*)` })
    .from(outbox)
    .groupBy(outbox.status)
    .all()
  const depth = { pending: 0, in_flight: 0, done: 0, dead: 0 }
  for (const row of rows) depth[row.status] = row.n
  return depth
}

/** Automatic effects queued since `since` for a conversation or a recipient (reply caps). */
export function countAutomaticEffects(
  db: Executor,
  filter: { conversationId?: number; recipient?: string; kinds?: readonly string[] },
  since: number,
): number {
  // The reply caps ask these two for every message: built once.
  if (!filter.kinds && (filter.conversationId === undefined) !== (filter.recipient === undefined)) {
    const row =
      filter.conversationId !== undefined
        ? automaticToConversation(db).get({ value: filter.conversationId, since })
        : automaticToRecipient(db).get({ value: filter.recipient!.toLowerCase(), since })
    return row?.n ?? 0
  }
  const conditions = [eq(outbox.automatic, true), gte(outbox.createdAt, since)]
  if (filter.conversationId !== undefined)
    conditions.push(eq(outbox.conversationId, filter.conversationId))
  if (filter.recipient !== undefined)
    conditions.push(eq(outbox.recipient, filter.recipient.toLowerCase()))
  if (filter.kinds) conditions.push(inArray(outbox.kind, [...filter.kinds]))
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(outbox)
    .where(and(...conditions))
    .get()
  return row?.n ?? 0
}

/** Automatic effects since `since` for one conversation or one recipient: built once each. */
const automaticTo = (column: typeof outbox.conversationId | typeof outbox.recipient) =>
  prepared((db) =>
    db
      .select({ n: sql<number>`count(*)` })
      .from(outbox)
      .where(
        and(
          eq(outbox.automatic, true),
          gte(outbox.createdAt, sql.placeholder('since')),
          eq(column, sql.placeholder('value')),
        ),
      )
      .prepare(),
  )
const automaticToConversation = automaticTo(outbox.conversationId)
const automaticToRecipient = automaticTo(outbox.recipient)
