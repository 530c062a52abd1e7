import { z } from 'zod'
import type { InboxHandoff, StaffInbox } from '../../src/contracts/channel.js'
import type { Effect } from '../../src/contracts/effect.js'
import { type ChatwootTarget, chatwootHandoff, chatwootMirror } from './effects.js'
import type { ChatwootConfig } from './index.js'
import { CHANNEL } from './normalize.js'
import { ChatwootState } from './schema.js'

/** A queue's team in Chatwoot (`queues.<id>.inbox.chatwoot` in the rulebook). */
const QueueSettings = z
  .object({
    /** The team by its name in Chatwoot, or by id. */
    team: z.string().min(1).optional(),
    team_id: z.number().int().positive().optional(),
    /** Give each conversation to the team's next online agent in turn (else the team only). */
    round_robin: z.boolean().default(true),
  })
  .strict()

/** Chatwoot's conversation priority for a hub priority (`priorities.<id>.inbox.chatwoot`). */
const PrioritySettings = z.enum(['urgent', 'high', 'medium', 'low'])

/** The Chatwoot account and conversation a stored message belongs to. */
export function chatwootTarget(
  meta: Record<string, unknown>,
): { accountId: number; conversationId: number } | null {
  const { accountId, conversationId } = meta
  return typeof accountId === 'number' && typeof conversationId === 'number'
    ? { accountId, conversationId }
    : null
}

/**
 * Chatwoot as the admins' inbox: a conversation of its own is handed over in place (a private
 * note with the decision, labels, priority, the queue's team); one from another channel is
 * first copied into the API inbox (`CHATWOOT_MIRROR_INBOX_ID`), then handed over there.
 */
export const chatwootInbox: StaffInbox<ChatwootConfig> = {
  queueSettings: QueueSettings,
  prioritySettings: PrioritySettings,
  planHandoff(handoff, config) {
    if (!config.api)
      return {
        effects: [],
        notes: ['Chatwoot API not configured: no note, labels or team assignment'],
      }
    if (handoff.message.channel === CHANNEL) {
      const target = chatwootTarget(handoff.message.meta)
      return { effects: target ? handOver(handoff, target) : [], notes: [] }
    }
    if (config.mirrorInboxId === null || config.api.accountId === null) {
      return {
        effects: [],
        notes: ['not mirrored into Chatwoot: set CHATWOOT_MIRROR_INBOX_ID and CHATWOOT_ACCOUNT_ID'],
      }
    }
    const { message, conversation, contact } = handoff
    const mirror = chatwootMirror({
      key: `${handoff.keyPrefix}:mirror`,
      subject: handoff.subject,
      conversationId: conversation.id,
      accountId: config.api.accountId,
      inboxId: config.mirrorInboxId,
      channel: message.channel,
      contact,
      content: message.subject ? `${message.subject}\n\n${message.text}` : message.text,
    })
    return {
      effects: [mirror, ...handOver(handoff, { mirrorOf: conversation.id }, mirror.key)],
      notes: [],
    }
  },
  queuesOfTeam(team, queues) {
    const name = team.name?.trim().toLowerCase() ?? null
    return queues
      .filter((queue) => {
        const settings = QueueSettings.safeParse(queue.settings ?? {})
        if (!settings.success) return false
        const { team_id: id, team: named } = settings.data
        return (
          (team.id !== null && id === team.id) ||
          (name !== null && named?.trim().toLowerCase() === name)
        )
      })
      .map((queue) => queue.id)
  },
}

function handOver(handoff: InboxHandoff, target: ChatwootTarget, after?: string): Effect[] {
  const settings = handoff.queue ? QueueSettings.safeParse(handoff.queue.settings ?? {}) : null
  const team = settings?.success
    ? {
        id: settings.data.team_id ?? null,
        name: settings.data.team ?? null,
        roundRobin: settings.data.round_robin,
      }
    : null
  const priority = PrioritySettings.safeParse(handoff.priority.settings)
  // What the conversation has is known only for Chatwoot's own (its webhook says it).
  const known =
    'mirrorOf' in target ? null : ChatwootState.safeParse(handoff.message.meta.conversationState)
  return chatwootHandoff({
    keyPrefix: handoff.keyPrefix,
    subject: handoff.subject,
    conversationId: handoff.conversation.id,
    target,
    known: known?.success ? known.data : null,
    team,
    labels: handoff.labels,
    priority: priority.success ? priority.data : 'medium',
    note: handoff.note,
    ...(after ? { after } : {}),
  })
}
