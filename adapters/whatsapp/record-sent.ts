import type { OutboundDeps } from '../../src/contracts/channel.js'
import { CHANNEL } from './normalize-cloud.js'

/**
 * Records a message the hub sent on WhatsApp under an effect key: the key → id link (so the
 * effect is never sent again) and the message in its conversation (receipts update it).
 */
export async function recordSentMessage(
  deps: OutboundDeps,
  sent: { key: string; id: string; conversationId: number; text: string; automatic: boolean },
  meta: Record<string, unknown>,
): Promise<void> {
  await deps.store.recordSent(CHANNEL, sent.key, sent.id)
  await deps.store.recordOutbound({
    channel: CHANNEL,
    externalId: sent.id,
    conversationId: sent.conversationId,
    authorRole: sent.automatic ? 'bot' : 'agent',
    text: sent.text,
    meta: { messageId: sent.id, key: sent.key, ...meta },
    automated: sent.automatic,
  })
}
