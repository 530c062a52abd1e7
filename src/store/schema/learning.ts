import { sql } from 'drizzle-orm'
import { blob, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { triageDecisions } from './cases.js'
import { messages } from './messages.js'

// Learning from corrections: people's corrections and the models trained on them.

/**
 * A person's correction of a triage decision (`src/learning/corrections.ts`): the message's
 * text as it was, what the hub decided, and only what the person changed. Kept for good (they
 * are the hub's training examples); they never leave the hub but as an export.
 */
export const corrections = sqliteTable(
  'corrections',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => messages.id),
    decisionId: integer('decision_id')
      .notNull()
      .references(() => triageDecisions.id),
    /** Where the person corrected it: `chatwoot`, `console` or `api`. */
    source: text('source').notNull(),
    actor: text('actor').notNull(),
    /** The text the triage read (subject and body), as it was. */
    text: text('text').notNull(),
    language: text('language').notNull(),
    /** JSON: the decision's intent, signals, level and queue. */
    decided: text('decided').notNull(),
    /** JSON: the fields the person changed, with their new values. */
    corrected: text('corrected').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('corrections_decision').on(t.decisionId),
    index('corrections_created').on(t.createdAt),
  ],
)

/**
 * Classifier models trained on the corpus plus corrections (`src/learning/retrain.ts`): the one
 * in use (`active`; none means the model of the shipped corpus), earlier ones kept for a
 * rollback (`previous`), ones rolled back (`retired`) and retrains that were not adopted
 * (`refused`, without a model), each with its measures and why.
 */
export const classifierModels = sqliteTable(
  'classifier_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    status: text('status', { enum: ['active', 'previous', 'retired', 'refused'] }).notNull(),
    reason: text('reason').notNull(),
    /** JSON: the candidate's and the reference's measures on both held-out sets. */
    metrics: text('metrics').notNull(),
    corpusHash: text('corpus_hash').notNull(),
    modelVersion: text('model_version').notNull(),
    /** The newest correction it learnt from (0: none). */
    throughCorrection: integer('through_correction').notNull(),
    /** How many corrections it learnt from. */
    corrections: integer('corrections').notNull(),
    by: text('by').notNull(),
    /** The compiled model (`encodeModel`); dropped from old and refused rows. */
    model: blob('model', { mode: 'buffer' }),
    createdAt: integer('created_at').notNull(),
    activatedAt: integer('activated_at'),
  },
  (t) => [uniqueIndex('classifier_models_active').on(t.status).where(sql`${t.status} = 'active'`)],
)
