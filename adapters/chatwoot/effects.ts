import { z } from 'zod'
import type { EffectExecutor, EffectRun } from '../../src/actions/effect-executor.js'
import { PermanentError } from '../../src/errors.js'
import type { Effect } from '../../src/store/outbox-store.js'
import type { ChatwootApi } from './api-client.js'
import { HUB_MARKER } from './normalize.js'

export const CHATWOOT_EFFECTS = {
  message: 'chatwoot.message',
  assign: 'chatwoot.assign',
  labels: 'chatwoot.labels',
  priority: 'chatwoot.priority',
} as const

const Target = z.object({ accountId: z.number().int(), conversationId: z.number().int() })
const MessagePayload = Target.extend({ content: z.string().min(1), private: z.boolean() })
const AssignPayload = Target.extend({
  teamId: z.number().int().positive().nullable(),
  teamName: z.string().min(1).nullable(),
  assigneeId: z.number().int().positive().nullable().default(null),
})
const LabelsPayload = Target.extend({ labels: z.array(z.string().min(1)).min(1) })
const PriorityPayload = Target.extend({
  priority: z.enum(['urgent', 'high', 'medium', 'low', 'none']),
})

export type ChatwootTarget = z.infer<typeof Target>

function parse<T extends z.ZodType>(schema: T, run: EffectRun): z.infer<T> {
  const result = schema.safeParse(run.payload)
  if (!result.success) throw new PermanentError(`${run.kind}: malformed payload`)
  return result.data
}

/** Chatwoot accepts lower-case labels made of letters, digits, - and _. */
export function toLabel(value: string): string {
  return value
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/** Executors for the Chatwoot effects, bound to one API client. */
export function chatwootExecutors(api: ChatwootApi): Map<string, EffectExecutor> {
  const teams = new Map<number, Map<string, number>>()
  const teamId = async (accountId: number, name: string): Promise<number> => {
    const wanted = name.toLowerCase()
    let known = teams.get(accountId)?.get(wanted)
    if (known === undefined) {
      const list = await api.listTeams(accountId)
      teams.set(accountId, new Map(list.map((t) => [t.name.toLowerCase(), t.id])))
      known = teams.get(accountId)?.get(wanted)
    }
    if (known === undefined) throw new PermanentError(`chatwoot: no team named "${name}"`)
    return known
  }

  return new Map<string, EffectExecutor>([
    [
      CHATWOOT_EFFECTS.message,
      async (run) => {
        const p = parse(MessagePayload, run)
        if (run.mayHaveRun) {
          // The message may already be there from a try that timed out after Chatwoot saved it.
          const recent = await api.listMessages(p.accountId, p.conversationId)
          const existing = recent.payload.find(
            (m) =>
              (m.content_attributes?.[HUB_MARKER] as { key?: string } | undefined)?.key === run.key,
          )
          if (existing) return { messageId: existing.id, found: true }
        }
        const created = await api.createMessage(p.accountId, p.conversationId, {
          content: p.content,
          message_type: 'outgoing',
          private: p.private,
          content_type: 'text',
          content_attributes: { [HUB_MARKER]: { key: run.key } },
        })
        return { messageId: created.id }
      },
    ],
    [
      CHATWOOT_EFFECTS.assign,
      async (run) => {
        const p = parse(AssignPayload, run)
        if (p.assigneeId !== null) {
          await api.assignAgent(p.accountId, p.conversationId, p.assigneeId)
          return { assigneeId: p.assigneeId }
        }
        const id = p.teamId ?? (p.teamName ? await teamId(p.accountId, p.teamName) : null)
        if (id === null) throw new PermanentError('chatwoot.assign: no team id or name')
        await api.assignTeam(p.accountId, p.conversationId, id)
        return { teamId: id }
      },
    ],
    [
      CHATWOOT_EFFECTS.labels,
      async (run) => {
        const p = parse(LabelsPayload, run)
        // The labels endpoint replaces the list: read it and add ours.
        const current = await api.getLabels(p.accountId, p.conversationId)
        const merged = [...new Set([...(current.payload ?? []), ...p.labels.map(toLabel)])]
        await api.setLabels(p.accountId, p.conversationId, merged)
        return { labels: merged }
      },
    ],
    [
      CHATWOOT_EFFECTS.priority,
      async (run) => {
        const p = parse(PriorityPayload, run)
        await api.setPriority(p.accountId, p.conversationId, p.priority)
        return { priority: p.priority }
      },
    ],
  ])
}

/** Effects that hand a Chatwoot conversation to a queue's team, labelled and prioritised. */
export function chatwootHandoff(options: {
  keyPrefix: string
  subject: string
  target: ChatwootTarget
  team: { id: number | null; name: string | null } | null
  labels: string[]
  priority: 'urgent' | 'high' | 'medium' | 'low'
  note: string
  after?: string
}): Effect[] {
  const { keyPrefix, subject, target, after } = options
  const effects: Effect[] = [
    {
      kind: CHATWOOT_EFFECTS.message,
      key: `${keyPrefix}:note`,
      subject,
      payload: { ...target, content: options.note, private: true },
      ...(after ? { after } : {}),
    },
    {
      kind: CHATWOOT_EFFECTS.labels,
      key: `${keyPrefix}:labels`,
      subject,
      payload: { ...target, labels: options.labels },
      ...(after ? { after } : {}),
    },
    {
      kind: CHATWOOT_EFFECTS.priority,
      key: `${keyPrefix}:priority`,
      subject,
      payload: { ...target, priority: options.priority },
      ...(after ? { after } : {}),
    },
  ]
  if (options.team && (options.team.id !== null || options.team.name !== null)) {
    effects.push({
      kind: CHATWOOT_EFFECTS.assign,
      key: `${keyPrefix}:assign`,
      subject,
      payload: {
        ...target,
        teamId: options.team.id,
        teamName: options.team.name,
        assigneeId: null,
      },
      ...(after ? { after } : {}),
    })
  }
  return effects
}
