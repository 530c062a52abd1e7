import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type Effect, type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { PermanentError } from '../../src/contracts/errors.js'
import { turnsByKey } from '../../src/kit/turns.js'
import type { ChatwootApi } from './api-client.js'
import { mirrorConversations, postOnce } from './mirror.js'

export const CHATWOOT_EFFECTS = {
  message: 'chatwoot.message',
  assign: 'chatwoot.assign',
  labels: 'chatwoot.labels',
  priority: 'chatwoot.priority',
  mirror: 'chatwoot.mirror',
} as const

const ChatwootConversationRef = z.object({
  accountId: z.number().int(),
  conversationId: z.number().int(),
})
/**
 * Where an effect writes: a Chatwoot conversation, or the mirror of one of the hub's
 * conversations (`mirrorOf`, its internal id), known once the mirror effect has run.
 */
const Target = z.union([ChatwootConversationRef, z.object({ mirrorOf: z.number().int() })])
const MessagePayload = Target.and(z.object({ content: z.string().min(1), private: z.boolean() }))
const AssignPayload = Target.and(
  z.object({
    teamId: z.number().int().positive().nullable(),
    teamName: z.string().min(1).nullable(),
    assigneeId: z.number().int().positive().nullable().default(null),
    /** Also give the conversation to the team's next available agent, in turn. */
    roundRobin: z.boolean().default(false),
  }),
)
const LabelsPayload = Target.and(z.object({ labels: z.array(z.string().min(1)).min(1) }))
const PriorityPayload = Target.and(
  z.object({ priority: z.enum(['urgent', 'high', 'medium', 'low', 'none']) }),
)

export const MirrorPayload = z.object({
  accountId: z.number().int(),
  inboxId: z.number().int(),
  /** The hub's conversation being mirrored. */
  conversationId: z.number().int(),
  channel: z.string(),
  contact: z.object({
    externalId: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
  }),
  content: z.string().min(1),
})

export type ChatwootTarget = z.infer<typeof Target>
export type MirrorRequest = z.infer<typeof MirrorPayload> & { key: string; subject: string }

/** The Chatwoot conversation recorded as the mirror of a hub conversation, if any. */
export function mirrorOf(
  meta: Record<string, unknown>,
): z.infer<typeof ChatwootConversationRef> | null {
  const parsed = ChatwootConversationRef.safeParse(meta.chatwootMirror)
  return parsed.success ? parsed.data : null
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
export function chatwootExecutors(
  api: ChatwootApi,
  deps: OutboundDeps,
): Map<string, EffectExecutor> {
  const { store } = deps
  const resolve = async (target: ChatwootTarget) => {
    if (!('mirrorOf' in target)) return target
    const mirror = mirrorOf(await store.conversationMeta(target.mirrorOf))
    if (!mirror) throw new PermanentError(`chatwoot: conversation ${target.mirrorOf} has no mirror`)
    return mirror
  }
  const mirrors = mirrorConversations(api, store)
  const labelTurns = turnsByKey()
  const assignTurns = turnsByKey()
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

  // Round-robin. The turn is taken and the pick recorded before the assignment call, one pick
  // at a time per team: assignments deciding at the same moment get the next agents in turn,
  // and a retry (the call may have reached Chatwoot) assigns the agent it picked, not someone
  // else.
  const pickKey = (effectKey: string) => `${effectKey}:agent`
  const teamTurns = turnsByKey()
  const pickAgent = (account: number, team: number, online: number[], effectKey: string) =>
    teamTurns.run(`${account}:${team}`, async () => {
      const earlier = await store.sentWith('chatwoot', pickKey(effectKey))
      if (earlier !== null) return Number(earlier)
      const turnKey = `chatwoot:round-robin:${account}:${team}`
      const last = Number((await deps.state.get(turnKey)) ?? 0)
      const agent = online.find((m) => m > last) ?? online[0]!
      await deps.state.set(turnKey, String(agent))
      await store.recordSent('chatwoot', pickKey(effectKey), String(agent))
      return agent
    })

  /** The team's agent for the conversation, in turn among those online; none if nobody is. */
  const roundRobin = async (
    to: { accountId: number; conversationId: number },
    team: number,
    effectKey: string,
  ): Promise<{ assigneeId: number | null; kept?: true }> => {
    const members = await api.teamMembers(to.accountId, team)
    // A conversation that already has one of the team's agents keeps them: the customer's next
    // message must not move it to someone else. (Chatwoot itself drops an agent who is not in
    // the new team when the team changes.)
    const current = (await api.getConversation(to.accountId, to.conversationId)).meta?.assignee
    if (current && members.some((m) => m.id === current.id))
      return { assigneeId: current.id, kept: true }
    const online = members
      .filter((m) => m.availability_status === 'online')
      .map((m) => m.id)
      .sort((a, b) => a - b)
    if (online.length === 0) return { assigneeId: null }
    const agent = await pickAgent(to.accountId, team, online, effectKey)
    await api.assignAgent(to.accountId, to.conversationId, agent)
    return { assigneeId: agent }
  }

  return new Map<string, EffectExecutor>([
    [
      CHATWOOT_EFFECTS.message,
      async (run) => {
        const p = parsePayload(MessagePayload, run)
        const to = await resolve(p)
        return postOnce(api, run, to, {
          content: p.content,
          message_type: 'outgoing',
          private: p.private,
        })
      },
    ],
    [
      CHATWOOT_EFFECTS.assign,
      async (run) => {
        const p = parsePayload(AssignPayload, run)
        const to = await resolve(p)
        if (p.assigneeId !== null) {
          await api.assignAgent(to.accountId, to.conversationId, p.assigneeId)
          return { assigneeId: p.assigneeId }
        }
        const id = p.teamId ?? (p.teamName ? await teamId(to.accountId, p.teamName) : null)
        if (id === null) throw new PermanentError('chatwoot.assign: no team id or name')
        // One assignment at a time per conversation: each reads who has it before choosing.
        return assignTurns.run(`${to.accountId}:${to.conversationId}`, async () => {
          await api.assignTeam(to.accountId, to.conversationId, id)
          if (!p.roundRobin) return { teamId: id }
          return { teamId: id, ...(await roundRobin(to, id, run.key)) }
        })
      },
    ],
    [
      CHATWOOT_EFFECTS.labels,
      async (run) => {
        const p = parsePayload(LabelsPayload, run)
        const to = await resolve(p)
        // The labels endpoint replaces the list: read it and add ours, one effect at a time
        // per conversation, so two messages' labels landing together both stay.
        return labelTurns.run(`${to.accountId}:${to.conversationId}`, async () => {
          const current = await api.getLabels(to.accountId, to.conversationId)
          const merged = [...new Set([...(current.payload ?? []), ...p.labels.map(toLabel)])]
          await api.setLabels(to.accountId, to.conversationId, merged)
          return { labels: merged }
        })
      },
    ],
    [
      CHATWOOT_EFFECTS.priority,
      async (run) => {
        const p = parsePayload(PriorityPayload, run)
        const to = await resolve(p)
        await api.setPriority(to.accountId, to.conversationId, p.priority)
        return { priority: p.priority }
      },
    ],
    [
      CHATWOOT_EFFECTS.mirror,
      async (run) => {
        const p = parsePayload(MirrorPayload, run)
        const to = await mirrors.ensure(p)
        // The customer's words, as the customer's (incoming is allowed in API inboxes only).
        const posted = await postOnce(api, run, to, {
          content: p.content,
          message_type: 'incoming',
          private: false,
        })
        return { ...to, ...posted }
      },
    ],
  ])
}

/** The effect that mirrors one customer message into the Chatwoot API inbox. */
export function chatwootMirror(request: MirrorRequest): Effect {
  const { key, subject, ...payload } = request
  return {
    kind: CHATWOOT_EFFECTS.mirror,
    key,
    subject,
    conversationId: payload.conversationId,
    payload,
  }
}

/** Effects that hand a Chatwoot conversation to a queue's team, labelled and prioritised. */
export function chatwootHandoff(options: {
  keyPrefix: string
  subject: string
  target: ChatwootTarget
  team: { id: number | null; name: string | null; roundRobin?: boolean } | null
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
        roundRobin: options.team.roundRobin ?? false,
      },
      ...(after ? { after } : {}),
    })
  }
  return effects
}
