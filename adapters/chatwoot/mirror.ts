import type { z } from 'zod'
import type { OutboundStore } from '../../src/contracts/channel.js'
import type { EffectRun } from '../../src/contracts/effect.js'
import { PermanentError } from '../../src/contracts/errors.js'
import { mirrorKey } from '../../src/contracts/message.js'
import { turnsByKey } from '../../src/kit/turns.js'
import type { ChatwootApi, ChatwootContactRecord } from './api-client.js'
import { type MirrorPayload, mirrorOf } from './effects.js'
import { CHANNEL, HUB_MARKER, MIRROR_ATTRIBUTE } from './normalize.js'

/**
 * Posts a message tagged with the effect's key. After a try that may have reached Chatwoot
 * (it timed out after Chatwoot saved it), the conversation is read first and a tagged copy reused.
 */
export async function postOnce(
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
export function mirrorConversations(api: ChatwootApi, store: OutboundStore) {
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
