import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { createdAt } from './columns.js'

// What the hub runs on: the outbox, console sessions, channels' small state.

/** Transactional outbox: every outbound effect, with its idempotency key. */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    idempotencyKey: text('idempotency_key').notNull(),
    kind: text('kind').notNull(),
    /** What the effect is about, for listing: `message:12`, `ticket:3`. */
    subject: text('subject').notNull(),
    payload: text('payload').notNull(),
    /** Key of an effect that must be done first (mirror before assign). */
    afterKey: text('after_key'),
    /** The conversation it concerns, when it is about one (reply caps, listings). */
    conversationId: integer('conversation_id'),
    /** Whom it writes to (an email address, a phone number), for per-recipient caps. */
    recipient: text('recipient'),
    /** A message the hub sends on its own (FAQ answer, acknowledgement, notice). */
    automatic: integer('automatic', { mode: 'boolean' }).notNull().default(false),
    status: text('status', { enum: ['pending', 'in_flight', 'done', 'dead'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    result: text('result'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
    doneAt: integer('done_at'),
  },
  (t) => [
    uniqueIndex('outbox_idempotency_key').on(t.idempotencyKey),
    index('outbox_due').on(t.status, t.nextAttemptAt),
    index('outbox_conversation').on(t.conversationId, t.createdAt),
    index('outbox_recipient').on(t.recipient, t.createdAt),
  ],
)

/**
 * The people who use the console, each with a role that follows the escalation levels
 * (agente, supervisor, gerencia, admin). A new account has no password: `centralita user add`
 * prints a one-time link (its hash here, with its expiry) on which the person chooses one.
 */
export const consoleUsers = sqliteTable(
  'console_users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-cased; how the person signs in. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** scrypt, with its parameters and salt (`scrypt$N$r$p$salt$hash`); null until chosen. */
    passwordHash: text('password_hash'),
    linkHash: text('link_hash'),
    linkExpiresAt: integer('link_expires_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('console_users_email').on(t.email),
    index('console_users_link').on(t.linkHash),
  ],
)

/**
 * Console sign-ins: one row per session, keyed by a hash of the random value its cookie holds
 * (the database never holds a usable cookie). Signing out deletes the row.
 */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    /** Who signed in, as the audit log names them. */
    actor: text('actor').notNull(),
    /** The person's account; null for a sign-in with the admin token. */
    userId: integer('user_id').references(() => consoleUsers.id),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expires').on(t.expiresAt)],
)

/** Small durable key/value state for channels (IMAP UIDVALIDITY and last UID, counters). */
export const channelState = sqliteTable('channel_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
})
