import { z } from 'zod'
import type { OutboundDeps } from '../../src/contracts/channel.js'
import { type Effect, type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { PermanentError, TransientError } from '../../src/contracts/errors.js'
import { turnsByKey } from '../../src/kit/turns.js'
import type { ChatwootApi } from './api-client.js'
import { LabelsFields, labelsExecutor, toLabel } from './labels.js'
import { mirrorConversations, postOnce } from './mirror.js'
import type { ChatwootState } from './schema.js'

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
    /** Its agent when the effect was planned, if known (null: nobody). */
    currentAssigneeId: z.number().int().positive().nullable().optional(),
  }),
)
const LabelsPayload = Target.and(LabelsFields)
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

/** How long a team's agents and their availability are taken as read. */
const MEMBERS_TTL_MS = 30_000

type TeamMember = { id: number; availability_status?: string | null }

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
  // A team's agents and who of them is online, read at most every MEMBERS_TTL_MS per team.
  const members = new Map<string, { at: number; list: Promise<TeamMember[]> }>()
  const teamMembers = (accountId: number, team: number): Promise<TeamMember[]> => {
    const key = `${accountId}:${team}`
    const at = deps.now().getTime()
    const cached = members.get(key)
    if (cached && at - cached.at < MEMBERS_TTL_MS) return cached.list
    const list = api.teamMembers(accountId, team)
    members.set(key, { at, list })
    list.catch(() => members.delete(key))
    return list
  }
  /** A team that Chatwoot no longer knows (404, 422): its name and agents are read again. */
  const forgetTeam = (accountId: number, team: number, err: unknown) => {
    const status = err instanceof PermanentError ? err.status : undefined
    if (status !== 404 && status !== 422) return err
    teams.delete(accountId)
    members.delete(`${accountId}:${team}`)
    return new TransientError(`${(err as Error).message} (the team list is read again)`, 0, {
      cause: err,
    })
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
    /** Its agent as the webhook said (null: nobody); undefined when unknown. */
    known: number | null | undefined,
  ): Promise<{ assigneeId: number | null; kept?: true }> => {
    const agents = await teamMembers(to.accountId, team)
    // A conversation that already has one of the team's agents keeps them: the customer's next
    // message must not move it to someone else. (Chatwoot itself drops an agent who is not in
    // the new team when the team changes.)
    const current =
      known !== undefined
        ? known
        : ((await api.getConversation(to.accountId, to.conversationId)).meta?.assignee?.id ?? null)
    if (current !== null && agents.some((m) => m.id === current))
      return { assigneeId: current, kept: true }
    const online = agents
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
          await api.assignTeam(to.accountId, to.conversationId, id).catch((err: unknown) => {
            throw forgetTeam(to.accountId, id, err)
          })
          if (!p.roundRobin) return { teamId: id }
          // A retry may follow an assignment that reached Chatwoot: ask who has it then.
          const known = run.mayHaveRun ? undefined : p.currentAssigneeId
          return { teamId: id, ...(await roundRobin(to, id, run.key, known)) }
        })
      },
    ],
    [
      CHATWOOT_EFFECTS.labels,
      labelsExecutor(api, deps, (p) => resolve(p as ChatwootTarget), LabelsPayload),
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

/**
 * Effects that hand a Chatwoot conversation to a queue's team, labelled and prioritised, then
 * say why in a private note. What the conversation already has (`known`, as Chatwoot's
 * webhook said) is not set again: a customer's next messages cost a note, not five calls.
 * The note goes last: the effects of one conversation run in order, so once it is there the
 * conversation is routed.
 */
export function chatwootHandoff(options: {
  keyPrefix: string
  subject: string
  /** The hub's conversation: its effects run one at a time, in order. */
  conversationId: number
  target: ChatwootTarget
  team: { id: number | null; name: string | null; roundRobin?: boolean } | null
  labels: string[]
  priority: 'urgent' | 'high' | 'medium' | 'low'
  note: string
  known?: ChatwootState | null
  after?: string
}): Effect[] {
  const { keyPrefix, subject, target, after, known } = options
  const common = { subject, conversationId: options.conversationId, ...(after ? { after } : {}) }
  const effects: Effect[] = []
  const labels = [...new Set(options.labels.map(toLabel))].filter((l) => l !== '')
  if (labels.length > 0 && !(known && labels.every((l) => known.labels.includes(l)))) {
    effects.push({
      kind: CHATWOOT_EFFECTS.labels,
      key: `${keyPrefix}:labels`,
      ...common,
      payload: {
        ...target,
        labels,
        hubConversationId: options.conversationId,
        ...(known ? { known: { labels: known.labels, at: known.at } } : {}),
      },
    })
  }
  if (known?.priority !== options.priority) {
    effects.push({
      kind: CHATWOOT_EFFECTS.priority,
      key: `${keyPrefix}:priority`,
      ...common,
      payload: { ...target, priority: options.priority },
    })
  }
  const team = options.team
  if (team && (team.id !== null || team.name !== null) && !hasTeam(known, team)) {
    effects.push({
      kind: CHATWOOT_EFFECTS.assign,
      key: `${keyPrefix}:assign`,
      ...common,
      payload: {
        ...target,
        teamId: team.id,
        teamName: team.name,
        assigneeId: null,
        roundRobin: team.roundRobin ?? false,
        // Who has it now, as the webhook said: the round-robin need not ask.
        ...(known ? { currentAssigneeId: known.assigneeId } : {}),
      },
    })
  }
  effects.push({
    kind: CHATWOOT_EFFECTS.message,
    key: `${keyPrefix}:note`,
    ...common,
    payload: { ...target, content: options.note, private: true },
  })
  return effects
}

/**
 * Whether the conversation is already the team's: with one of its agents when the queue gives
 * conversations to agents in turn (Chatwoot drops an agent who is not in the new team when the
 * team changes, so an agent there is the team's).
 */
function hasTeam(
  known: ChatwootState | null | undefined,
  team: { id: number | null; name: string | null; roundRobin?: boolean },
): boolean {
  if (!known || known.teamId === null) return false
  const same =
    team.id !== null
      ? known.teamId === team.id
      : known.teamName?.trim().toLowerCase() === team.name?.trim().toLowerCase()
  return same && (!team.roundRobin || known.assigneeId !== null)
}

export { toLabel }
