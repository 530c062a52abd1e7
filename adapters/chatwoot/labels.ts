import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { turnsByKey } from '../../src/kit/turns.js'
import type { ChatwootApi } from './api-client.js'

/** Labels as the hub last knew them, and when (epoch ms). */
const Known = z.object({ labels: z.array(z.string()), at: z.number() })

export const LabelsFields = z.object({
  labels: z.array(z.string().min(1)).min(1),
  /** The hub's conversation: where the labels the hub set are recorded. */
  hubConversationId: z.number().int().optional(),
  /** The conversation's labels as Chatwoot's webhook said, and when it was received. */
  known: Known.optional(),
})

/** How old what the hub knows of a conversation's labels may be to write without reading. */
const FRESH_MS = 30_000

/** Where the hub records the labels it set on a conversation (its meta). */
const RECORD = 'chatwootLabels'

/** Chatwoot accepts lower-case labels made of letters, digits, - and _. */
export function toLabel(value: string): string {
  return value
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/**
 * Adds labels to a conversation. Chatwoot's endpoint replaces the whole list, so the list is
 * the conversation's labels plus ours, one effect at a time per conversation (the outbox runs
 * a conversation's effects in order, on every instance). The conversation's labels are what
 * the hub knows when that is recent (the webhook of the message being handled, or the labels
 * the hub itself set last, whichever is newer, under FRESH_MS old), as Chatwoot's own
 * dashboard posts the list it shows; otherwise, or on a retry, they are read first. Nothing
 * is written when every label is already there.
 */
export function labelsExecutor(
  api: ChatwootApi,
  deps: OutboundDeps,
  resolve: (payload: unknown) => Promise<{ accountId: number; conversationId: number }>,
  schema: z.ZodType<z.infer<typeof LabelsFields>>,
): EffectExecutor {
  const turns = turnsByKey()
  const recorded = async (hub: number | undefined) => {
    if (hub === undefined) return undefined
    const parsed = Known.safeParse((await deps.store.conversationMeta(hub))[RECORD])
    return parsed.success ? parsed.data : undefined
  }
  return async (run) => {
    const p = parsePayload(schema, run)
    const to = await resolve(p)
    return turns.run(`${to.accountId}:${to.conversationId}`, async () => {
      const now = deps.now().getTime()
      const ours = await recorded(p.hubConversationId)
      const newest = [p.known, ours]
        .filter((k): k is z.infer<typeof Known> => k !== undefined)
        .sort((a, b) => b.at - a.at)[0]
      const fresh = !run.mayHaveRun && newest !== undefined && now - newest.at <= FRESH_MS
      const current = fresh
        ? newest.labels
        : ((await api.getLabels(to.accountId, to.conversationId)).payload ?? [])
      const merged = [...new Set([...current, ...p.labels.map(toLabel)])]
      if (merged.length === current.length) return { labels: current, unchanged: true }
      await api.setLabels(to.accountId, to.conversationId, merged)
      if (p.hubConversationId !== undefined)
        await deps.store.mergeConversationMeta(p.hubConversationId, {
          [RECORD]: { labels: merged, at: now },
        })
      return { labels: merged }
    })
  }
}
