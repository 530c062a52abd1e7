import { and, desc, eq, inArray, ne, sql } from 'drizzle-orm'
import type { Executor } from './db.js'
import { auditLog, conversations, messages, triageDecisions } from './schema.js'
import { recordFirstResponse } from './ticket-store.js'
import type { TriageSubject } from './triage-store.js'

/** Meta kind of the hub's email to an admin queue; an answer to it is a person's reply to relay. */
export const QUEUE_NOTIFICATION = 'queue_notification'

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []

/**
 * The hub conversation a stored message answers on an admin's behalf, or null when it is an
 * ordinary customer message. Two cases:
 * - `meta.relayOf` (set by an adapter, e.g. an agent's reply in a Chatwoot mirror): accepted only
 *   when that conversation's recorded mirror is the one the message came from;
 * - a reply to a queue notification email the hub sent (its In-Reply-To or References name it):
 *   only the admins received that Message-ID, so its answer is theirs.
 * Machine-sent mail (out-of-office answers) is never relayed.
 */
export function relayTarget(db: Executor, subject: TriageSubject): number | null {
  const { message } = subject
  if (message.automated) return null
  const relayOf = message.meta.relayOf
  if (typeof relayOf === 'number') {
    const row = db
      .select({ meta: conversations.meta })
      .from(conversations)
      .where(eq(conversations.id, relayOf))
      .get()
    const mirror = row
      ? (JSON.parse(row.meta) as { chatwootMirror?: unknown }).chatwootMirror
      : null
    const from = { accountId: message.meta.accountId, conversationId: message.meta.conversationId }
    const same =
      mirror !== null &&
      typeof mirror === 'object' &&
      (mirror as Record<string, unknown>).accountId === from.accountId &&
      (mirror as Record<string, unknown>).conversationId === from.conversationId
    return same ? relayOf : null
  }
  if (message.direction !== 'inbound') return null
  const refs = [...strings(message.meta.inReplyTo), ...strings(message.meta.references)]
  if (refs.length === 0) return null
  const notification = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, subject.conversation.id),
        eq(messages.channel, message.channel),
        eq(messages.direction, 'outbound'),
        inArray(messages.externalId, refs.slice(0, 200)),
        sql`json_extract(${messages.meta}, '$.kind') = ${QUEUE_NOTIFICATION}`,
      ),
    )
    .get()
  return notification ? subject.conversation.id : null
}

/** The customer's latest message in a conversation (what a relayed answer replies to). */
export function latestCustomerMessage(
  db: Executor,
  conversationId: number,
  except: number,
): number | null {
  const row = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        eq(messages.direction, 'inbound'),
        eq(messages.triage, true),
        inArray(messages.authorRole, ['customer', 'visitor', 'operator']),
        ne(messages.id, except),
      ),
    )
    .orderBy(desc(messages.sentAt), desc(messages.id))
    .get()
  return row?.id ?? null
}

/**
 * Records that a person answered a conversation through the hub: the message is theirs (not
 * the customer's), the conversation's last agent reply moves (automatic answers go quiet), and
 * the audit log says who relayed what.
 */
export function recordRelay(
  db: Executor,
  relay: {
    messageId: number
    conversationId: number
    actor: string
    outcome: 'relayed' | 'undeliverable'
    reason?: string
  },
  now: Date,
): void {
  const at = now.getTime()
  db.update(messages).set({ authorRole: 'agent' }).where(eq(messages.id, relay.messageId)).run()
  db.update(conversations)
    .set({
      lastAgentReplyAt: sql`max(coalesce(${conversations.lastAgentReplyAt}, 0), ${at})`,
      updatedAt: at,
    })
    .where(eq(conversations.id, relay.conversationId))
    .run()
  if (relay.outcome === 'relayed') recordFirstResponse(db, relay.conversationId, relay.actor, at)
  db.insert(auditLog)
    .values({
      at,
      actor: relay.actor,
      action: `relay.${relay.outcome}`,
      subject: `conversation:${relay.conversationId}`,
      details: JSON.stringify({
        messageId: relay.messageId,
        ...(relay.reason ? { reason: relay.reason } : {}),
      }),
    })
    .run()
}

/** The language triage found in a message, if it was triaged. */
export function decidedLanguage(db: Executor, messageId: number): 'es' | 'en' | null {
  const row = db
    .select({ language: triageDecisions.language })
    .from(triageDecisions)
    .where(eq(triageDecisions.messageId, messageId))
    .get()
  return row?.language === 'es' || row?.language === 'en' ? row.language : null
}
