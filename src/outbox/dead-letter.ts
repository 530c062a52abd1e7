import { getEffect, listEffects, type OutboxRow, replayEffect } from '../store/outbox-store.js'
import type { Sql } from '../store/sql.js'
import { audit } from '../store/ticket-store.js'

const when = (ms: number | null) =>
  ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z')

/** One dead effect as a line: id, kind, attempts, last change, key, last error. */
export function formatDeadLetters(rows: readonly OutboxRow[]): string {
  if (rows.length === 0) return 'the dead letter is empty'
  const lines = rows.map((r) =>
    [
      String(r.id).padStart(6),
      r.kind.padEnd(22),
      String(r.attempts).padStart(3),
      when(r.updatedAt),
      r.idempotencyKey,
      (r.lastError ?? '').slice(0, 120),
    ].join('  '),
  )
  return [
    `${'id'.padStart(6)}  ${'kind'.padEnd(22)}  try  ${'updated'.padEnd(20)}  key  last error`,
    ...lines,
  ].join('\n')
}

export function deadLetterView(row: OutboxRow) {
  return {
    id: row.id,
    kind: row.kind,
    key: row.idempotencyKey,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    lastError: row.lastError,
    conversationId: row.conversationId,
    recipient: row.recipient,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    payload: JSON.parse(row.payload) as unknown,
    result: row.result ? (JSON.parse(row.result) as unknown) : null,
  }
}

export const listDeadLetters = (db: Sql, limit: number) =>
  listEffects(db, { status: 'dead', limit })

export async function showDeadLetter(db: Sql, id: number) {
  const row = await getEffect(db, id)
  return row ? deadLetterView(row) : null
}

/**
 * Puts dead effects back in the queue with a fresh budget of tries; the hub runs them on its
 * next pass (within its dispatcher's safety poll when the replay comes from the CLI).
 */
export async function replayDeadLetters(
  db: Sql,
  ids: readonly number[],
  by: string,
  now: Date,
): Promise<{ replayed: number[]; skipped: number[] }> {
  const replayed: number[] = []
  const skipped: number[] = []
  await db.transaction(async (tx) => {
    for (const id of ids) {
      if (await replayEffect(tx, id, now)) {
        replayed.push(id)
        await audit(
          tx,
          { actor: by, action: 'outbox.replayed', subject: `outbox:${id}` },
          now.getTime(),
        )
      } else skipped.push(id)
    }
  })
  return { replayed, skipped }
}
