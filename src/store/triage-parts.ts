/**
 * Parts of PostgreSQL's triage queue (`triage-queue.ts`): a message belongs to part
 * `conversation_id % TRIAGE_PARTS`. Changing it needs a migration (the index
 * `messages_triage_part` is on this very expression) and moves conversations between parts.
 */
export const TRIAGE_PARTS = 8

/** A message's part, as the index reads it: its value a placeholder. */
export const IN_PART = `(conversation_id % ${TRIAGE_PARTS}) = ?`
