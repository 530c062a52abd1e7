import type { ChannelEntry, Notification, NotifyVia } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'

/**
 * The effects that deliver an alert by each means it asks for (email, push, SMS, call), from
 * the channels that offer them; a means nobody configured, or nobody to reach it with, is noted.
 */
export function planNotification(
  n: Notification,
  channels: ReadonlyMap<string, ChannelEntry>,
): { effects: Effect[]; notes: string[] } {
  const covered = new Map<NotifyVia, Effect[]>()
  for (const { adapter, settings } of channels.values()) {
    if (!adapter.notify) continue
    const byMeans = adapter.notify(n, settings.config) as Partial<Record<NotifyVia, Effect[]>>
    for (const [via, effects] of Object.entries(byMeans) as [NotifyVia, Effect[]][]) {
      covered.set(via, [...(covered.get(via) ?? []), ...effects])
    }
  }
  const notes: string[] = []
  for (const via of n.via) {
    const effects = covered.get(via)
    if (!effects) notes.push(`${via} alert not sent: not configured`)
    else if (effects.length === 0)
      notes.push(
        `${via} alert not sent: nobody to ${via === 'email' ? 'email' : 'reach'} for ${n.topic}`,
      )
  }
  const effects = [...covered.values()].flat().map((e) => ({
    ...e,
    ...(n.conversationId !== undefined ? { conversationId: n.conversationId } : {}),
    automatic: false,
  }))
  return { effects, notes }
}
