import { z } from 'zod'
import type { OutboundDeps, OutboundStore } from '../../src/contracts/channel.js'
import type { Effect, EffectExecutor, EffectRun } from '../../src/contracts/effect.js'
import { PermanentError } from '../../src/contracts/errors.js'
import { mirrorKey } from '../../src/contracts/message.js'
import { turnsByKey } from '../../src/kit/turns.js'
import type { ChatwootApi, ChatwootContactRecord } from './api-client.js'
import { CHANNEL, HUB_MARKER, MIRROR_ATTRIBUTE } from './normalize.js'

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

const MirrorPayload = z.object({
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
        const p = parse(MessagePayload, run)
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
        const p = parse(AssignPayload, run)
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
        const p = parse(LabelsPayload, run)
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
        const p = parse(PriorityPayload, run)
        const to = await resolve(p)
        await api.setPriority(to.accountId, to.conversationId, p.priority)
        return { priority: p.priority }
      },
    ],
    [
      CHATWOOT_EFFECTS.mirror,
      async (run) => {
        const p = parse(MirrorPayload, run)
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

/**
 * Posts a message tagged with the effect's key. After a try that may have reached Chatwoot
 * (it timed out after Chatwoot saved it), the conversation is read first and a tagged copy reused.
 */
async function postOnce(
  api: ChatwootApi,
  run: EffectRun,
  to: { accountId: number; conversationId: number },
  message: { content: string; message_type: 'outgoing' | 'incoming'; private: boolean },
): Promise<{ messageId: number; found?: true }> {
  if (run.mayHaveRun) {
    const recent = await api.listMessages(to.accountId, to.conversationId)
    const existing = recent.payload.find(
      (m) => (m.content_attributes?.[HUB_MARKER] as { key?: string } | undefined)?.key === run.key,
    )
    if (existing) return { messageId: existing.id, found: true }
  }
  const created = await api.createMessage(to.accountId, to.conversationId, {
    ...message,
    content_type: 'text',
    content_attributes: { [HUB_MARKER]: { key: run.key } },
  })
  return { messageId: created.id }
}

const E164 = /^\+[1-9]\d{6,14}$/

/**
 * Finds or creates the Chatwoot conversation that mirrors a hub conversation in the API inbox:
 * the contact (by email, else phone, else the hub's identifier), its link to the inbox, and a
 * conversation tagged with the hub's conversation id, recorded in the hub's conversation.
 * Creation is serialized per conversation, and an earlier try's conversation is found by its
 * tag, so neither concurrent messages nor retries make two mirrors. Finding or creating the
 * contact is serialized per contact, so one customer's conversations mirrored at the same
 * moment (two chats, two email threads) share one contact; a contact made elsewhere between
 * the search and the create (Chatwoot refuses the duplicate with 422) is taken over.
 */
function mirrorConversations(api: ChatwootApi, store: OutboundStore) {
  const pending = new Map<number, Promise<{ accountId: number; conversationId: number }>>()
  const contactTurns = turnsByKey()
  type Mirror = z.infer<typeof MirrorPayload>
  type FoundContact = { contact: ChatwootContactRecord; sourceId: string | null; found: boolean }

  const search = async (
    p: Mirror,
    query: string,
    matches: (c: ChatwootContactRecord) => boolean,
  ) => {
    const found = await api.searchContacts(p.accountId, query)
    return (found.payload ?? []).find(matches) ?? null
  }
  const byIdentifier = (p: Mirror, identifier: string) =>
    search(p, identifier, (c) => c.identifier === identifier)
  const findContact = (p: Mirror, identifier: string) => {
    const { email, phone } = p.contact
    if (email) return search(p, email, (c) => c.email?.toLowerCase() === email.toLowerCase())
    if (phone) return search(p, phone, (c) => c.phone_number === phone)
    return byIdentifier(p, identifier)
  }
  const linkOf = (contact: ChatwootContactRecord, inboxId: number) =>
    contact.contact_inboxes?.find((ci) => ci.inbox?.id === inboxId)?.source_id ?? null

  const findOrCreateContact = async (p: Mirror, identifier: string): Promise<FoundContact> => {
    const known = await findContact(p, identifier)
    if (known) return { contact: known, sourceId: linkOf(known, p.inboxId), found: true }
    try {
      const created = await api.createContact(p.accountId, {
        inbox_id: p.inboxId,
        ...(p.contact.name ? { name: p.contact.name } : {}),
        ...(p.contact.email ? { email: p.contact.email } : {}),
        ...(p.contact.phone && E164.test(p.contact.phone) ? { phone_number: p.contact.phone } : {}),
        identifier,
        additional_attributes: { source: `centralita/${p.channel}` },
      })
      const made =
        created.payload?.contact ?? (typeof created.id === 'number' ? { id: created.id } : null)
      if (!made) throw new PermanentError('chatwoot: create contact answered without an id')
      return {
        contact: made,
        sourceId: created.payload?.contact_inbox?.source_id ?? null,
        found: false,
      }
    } catch (err) {
      // 422: a contact with this email, phone or identifier exists now. Use it.
      if (!(err instanceof PermanentError && err.status === 422)) throw err
      const existing = (await findContact(p, identifier)) ?? (await byIdentifier(p, identifier))
      if (!existing) throw err
      return { contact: existing, sourceId: linkOf(existing, p.inboxId), found: true }
    }
  }

  /** The customer's contact, linked to the mirror inbox; one at a time per customer. */
  const contactFor = (p: Mirror, identifier: string): Promise<FoundContact> => {
    // As findContact: an empty email or phone is no email or phone.
    const who = (p.contact.email || p.contact.phone || identifier).toLowerCase()
    return contactTurns.run(`${p.accountId}:${who}`, async () => {
      const found = await findOrCreateContact(p, identifier)
      const sourceId =
        found.sourceId ??
        (await api.createContactInbox(p.accountId, found.contact.id, p.inboxId)).source_id ??
        null
      return { ...found, sourceId }
    })
  }

  const create = async (p: Mirror) => {
    const known = mirrorOf(await store.conversationMeta(p.conversationId))
    if (known && known.accountId === p.accountId) return known
    const identifier = `centralita:${p.channel}:${p.contact.externalId}`.slice(0, 255)
    const { contact, sourceId, found } = await contactFor(p, identifier)
    if (found) {
      // A conversation an interrupted try created is reused: this effect's, or that of another
      // message of the same conversation (the hub stopped between Chatwoot's answer and
      // recording it, and the next message's effect comes first). Only a contact that existed
      // before can have one.
      const listed = await api.contactConversations(p.accountId, contact.id)
      const earlier = (listed.payload ?? []).find(
        (c) => c.custom_attributes?.[MIRROR_ATTRIBUTE] === p.conversationId,
      )
      if (earlier) return record(p, earlier.id)
    }
    if (!sourceId)
      throw new PermanentError('chatwoot: the contact has no source id in the mirror inbox')
    const conversation = await api.createConversation(p.accountId, {
      source_id: sourceId,
      inbox_id: p.inboxId,
      contact_id: contact.id,
      status: 'open',
      custom_attributes: { [MIRROR_ATTRIBUTE]: p.conversationId },
      additional_attributes: { centralita_channel: p.channel },
    })
    return record(p, conversation.id)
  }

  const record = async (p: Mirror, conversationId: number) => {
    const mirror = { accountId: p.accountId, conversationId }
    // `mirror:<channel>` is how the core recognises the mirror (an agent's answer in it is
    // relayed to the customer: see the relay); `chatwootMirror` is this adapter's own.
    await store.mergeConversationMeta(p.conversationId, {
      chatwootMirror: mirror,
      [mirrorKey(CHANNEL)]: `${p.accountId}:${conversationId}`,
    })
    return mirror
  }

  return {
    ensure(p: Mirror) {
      const inFlight = pending.get(p.conversationId)
      // biome-ignore lint/nursery/noMisusedPromises: whether a creation is in flight, not its result
      if (inFlight) return inFlight
      const run = create(p).finally(() => pending.delete(p.conversationId))
      pending.set(p.conversationId, run)
      return run
    },
  }
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
