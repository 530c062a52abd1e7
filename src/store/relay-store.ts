import { mirrorKey } from '../contracts/message.js'
import { greatest, jsonSetText, jsonText, list, type Sql } from './sql.js'
import { audit, recordFirstResponse } from './ticket-store.js'
import type { TriageSubject } from './triage-store.js'

/** Meta kind of the hub's email to an admin queue; an answer to it is a person's reply to relay. */
export const QUEUE_NOTIFICATION = 'queue_notification'

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []

/** A person's answer the hub relays: to which conversation, and what it answers. */
export type RelayTarget = {
  conversationId: number
  /** For an answer to a queue notification email: where the notification went, and about what. */
  notification: { to: string | null; about: number | null } | null
}

/**
 * The hub conversation a stored message answers on an admin's behalf, or null when it is an
 * ordinary customer message. Two cases:
 * - `meta.relayOf` (set by an adapter, e.g. an agent's reply in a Chatwoot mirror): accepted only
 *   when that conversation's recorded mirror in the message's channel (`mirrorKey`) is the
 *   conversation the message came from;
 * - a reply to a queue notification email the hub sent (its In-Reply-To or References name it).
 *   Who may answer it is decided by the caller (`relayRefusal`).
 * Machine-sent mail (out-of-office answers) is never relayed.
 */
export async function relayTarget(db: Sql, subject: TriageSubject): Promise<RelayTarget | null> {
  const { message } = subject
  if (message.automated) return null
  const relayOf = message.meta.relayOf
  if (typeof relayOf === 'number') {
    const row = await db.get<{ meta: string }>('select meta from conversations where id = ?', [
      relayOf,
    ])
    const mirror = row
      ? (JSON.parse(row.meta) as Record<string, unknown>)[mirrorKey(message.channel)]
      : undefined
    return mirror === subject.conversation.externalId
      ? { conversationId: relayOf, notification: null }
      : null
  }
  if (message.direction !== 'inbound') return null
  const refs = [...strings(message.meta.inReplyTo), ...strings(message.meta.references)].slice(
    0,
    200,
  )
  if (refs.length === 0) return null
  const notification = await db.get<{ id: number; meta: string }>(
    `select id, meta from messages
      where conversation_id = ? and channel = ? and direction = 'outbound'
        and external_id in (${list(refs)}) and ${jsonText(db, 'meta', 'kind')} = ?`,
    [subject.conversation.id, message.channel, ...refs, QUEUE_NOTIFICATION],
  )
  if (!notification) return null
  const meta = JSON.parse(notification.meta) as { to?: unknown; about?: unknown }
  return {
    conversationId: subject.conversation.id,
    notification: {
      to: typeof meta.to === 'string' ? meta.to.toLowerCase() : null,
      about: typeof meta.about === 'number' ? meta.about : null,
    },
  }
}

/**
 * Why an answer to a queue notification must not reach the customer, or null. Only the queue's
 * own people answer its notifications: the mailbox it was sent to, and the queue's contacts
 * (`queues.yaml`). The sender's address is only a claim, so a message whose receiving server
 * found it failing SPF, DKIM or DMARC (`meta.authFailure`) is refused whoever it names.
 */
export function relayRefusal(
  answer: TriageSubject,
  notification: NonNullable<RelayTarget['notification']>,
  queues: Readonly<Record<string, { email?: string | undefined; contacts: { emails: string[] } }>>,
): string | null {
  const failure = answer.message.meta.authFailure
  if (typeof failure === 'string' && failure) return `the sender is not authentic (${failure})`
  const allowed = new Set<string>()
  for (const queue of Object.values(queues)) {
    const mailbox = queue.email?.toLowerCase()
    // The queue the notification went to; an old one that does not say goes by every queue.
    if (notification.to !== null && mailbox !== notification.to) continue
    if (mailbox) allowed.add(mailbox)
    for (const email of queue.contacts.emails) allowed.add(email.toLowerCase())
  }
  if (notification.to) allowed.add(notification.to)
  const from = answer.contact.email?.toLowerCase() ?? null
  if (from && allowed.has(from)) return null
  return `${from ?? 'an unknown sender'} is not one of the queue's addresses`
}

/** The customer's latest message in a conversation (what a relayed answer replies to). */
export async function latestCustomerMessage(
  db: Sql,
  conversationId: number,
  except: number,
): Promise<number | null> {
  const row = await db.get<{ id: number }>(
    `select id from messages
      where conversation_id = ? and direction = 'inbound' and triage = ?
        and author_role in ('customer', 'visitor', 'operator') and id <> ?
      order by sent_at desc, id desc limit 1`,
    [conversationId, true, except],
  )
  return row?.id ?? null
}

/**
 * Records that a person answered a conversation through the hub: the message is theirs (not
 * the customer's), the conversation's last agent reply moves (automatic answers go quiet), and
 * the audit log says who relayed what.
 */
export async function recordRelay(
  db: Sql,
  relay: {
    messageId: number
    conversationId: number
    actor: string
    outcome: 'relayed' | 'undeliverable' | 'refused'
    reason?: string
  },
  now: Date,
): Promise<void> {
  const at = now.getTime()
  const entry = {
    actor: relay.actor,
    action: `relay.${relay.outcome}`,
    subject: `conversation:${relay.conversationId}`,
    details: { messageId: relay.messageId, ...(relay.reason ? { reason: relay.reason } : {}) },
  }
  if (relay.outcome === 'refused') {
    // Kept in the conversation and in the audit (the console lists refused answers), never
    // sent, never triaged as the customer's.
    await db.run(
      `update messages set meta = ${jsonSetText(db, 'meta', 'relayRefused')} where id = ?`,
      [relay.reason ?? '', relay.messageId],
    )
    await audit(db, entry, at)
    return
  }
  await db.run(`update messages set author_role = 'agent' where id = ?`, [relay.messageId])
  await db.run(
    `update conversations set last_agent_reply_at = ${greatest(db, 'coalesce(last_agent_reply_at, 0)', '?')},
       updated_at = ? where id = ?`,
    [at, at, relay.conversationId],
  )
  if (relay.outcome === 'relayed')
    await recordFirstResponse(db, relay.conversationId, relay.actor, at)
  await audit(db, entry, at)
}

/** The language triage found in a message, if it was triaged. */
export async function decidedLanguage(db: Sql, messageId: number): Promise<'es' | 'en' | null> {
  const row = await db.get<{ language: string }>(
    'select language from triage_decisions where message_id = ?',
    [messageId],
  )
  return row?.language === 'es' || row?.language === 'en' ? row.language : null
}
