import { type NormalizedMessage, sha256Hex } from '../../src/contracts/message.js'
import { type Delivery, persistDelivery } from '../../src/store/ingest-store.js'
import type { Sql } from '../../src/store/sql.js'

/** A Chatwoot delivery of one customer message, as the store receives it after parsing. */
export function storedDelivery(id: string, messageId: string, text = 'hola'): Delivery {
  return {
    channel: 'chatwoot',
    deliveryId: id,
    rawHash: sha256Hex(id),
    events: [],
    messages: [
      {
        channel: 'chatwoot',
        externalId: messageId,
        conversationExternalId: '1:10',
        contactExternalId: '1:40',
        direction: 'inbound',
        authorRole: 'customer',
        text,
        language: null,
        attachments: [],
        sentAt: new Date(0).toISOString(),
        receivedAt: new Date(0).toISOString(),
        rawHash: sha256Hex(id),
        contact: {},
        triage: true,
        automated: false,
        meta: {},
      },
    ],
  }
}

/**
 * Stores one customer message (`storedDelivery`'s) in conversation `conversation` from contact
 * `contact` (external ids), with the contact's details given; its id.
 */
export async function storeOneMessage(
  sql: Sql,
  id: string,
  to: { conversation: string; contact: string; details?: NormalizedMessage['contact'] },
  now: Date,
): Promise<number> {
  const one = storedDelivery(id, `m-${id}`)
  const stored = await persistDelivery(
    sql,
    {
      ...one,
      messages: [
        {
          ...one.messages[0]!,
          conversationExternalId: to.conversation,
          contactExternalId: to.contact,
          contact: to.details ?? {},
        },
      ],
    },
    now,
  )
  if (stored.outcome !== 'stored') throw new Error(`not stored: ${stored.outcome}`)
  return stored.messageIds[0]!
}
