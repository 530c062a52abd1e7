import { sha256Hex } from '../../src/contracts/message.js'
import type { Delivery } from '../../src/store/ingest-store.js'

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
