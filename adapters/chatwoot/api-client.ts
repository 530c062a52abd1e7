import { TransientError } from '../../src/contracts/errors.js'
import { boundHttpClient, classifyHttpError, HttpError } from '../../src/kit/http-client.js'
import type { Pacer } from '../../src/kit/pacer.js'

export type ChatwootApiConfig = {
  baseUrl: string
  token: string
  timeoutMs?: number
  /** Spaces the calls under Chatwoot's throttle (CHATWOOT_API_RATE_LIMIT). */
  pacer?: Pacer
  /** Told when Chatwoot answered 429 all the same (logged). */
  onThrottled?: (waitMs: number) => void
}

export type ChatwootMessageBody = {
  content: string
  message_type: 'outgoing' | 'incoming'
  private: boolean
  content_type?: 'text'
  content_attributes?: Record<string, unknown>
}

type ListedMessage = { id: number; content_attributes?: Record<string, unknown> | null }

type ContactInbox = { source_id?: string | null; inbox?: { id?: number | null } | null }

export type ChatwootContactRecord = {
  id: number
  email?: string | null
  phone_number?: string | null
  identifier?: string | null
  contact_inboxes?: ContactInbox[] | null
}

export type ChatwootContactBody = {
  inbox_id: number
  name?: string
  email?: string
  phone_number?: string
  identifier?: string
  additional_attributes?: Record<string, unknown>
}

export type ChatwootConversationBody = {
  source_id: string
  inbox_id: number
  contact_id: number
  status?: 'open' | 'pending'
  custom_attributes?: Record<string, unknown>
  additional_attributes?: Record<string, unknown>
}

type ListedConversation = {
  id: number
  inbox_id?: number | null
  custom_attributes?: Record<string, unknown> | null
}

/** Longest wait for Chatwoot's throttle inside one call; past it the outbox retries later. */
const MAX_THROTTLE_WAIT_MS = 65_000

/**
 * How long to hold all calls after Chatwoot answered 429: its Retry-After when it sends one;
 * otherwise a second, doubling while the 429s go on, up to the start of the next minute.
 * Rack::Attack counts each client address's requests in fixed minutes of the epoch and sends
 * no Retry-After by default, so a throttle that lasts ends with the minute.
 */
function throttleWait(err: TransientError, streak: number, now = Date.now()): number {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs
  const nextMinute = 60_000 - (now % 60_000) + 1_000
  return Math.min(1_000 * 2 ** Math.min(streak, 6), nextMinute)
}

/**
 * The calls the hub makes to Chatwoot's Application API (auth header `api_access_token`).
 * Every request is checked against Chatwoot's OpenAPI file in the contract tests.
 */
export function chatwootApi(config: ChatwootApiConfig) {
  const http = boundHttpClient(config.baseUrl, { api_access_token: config.token }, config.timeoutMs)
  const conversationPath = (account: number, conversation: number) =>
    `/api/v1/accounts/${account}/conversations/${conversation}`
  const { pacer } = config
  /** 429s in a row (any success ends the streak). */
  let streak = 0
  // Each call waits for its slot under the throttle. Should Chatwoot throttle all the same
  // (other clients share the address), calls pause and this one is tried again, twice at
  // most: the outbox's own retry would wait far longer.
  const call = async <T>(context: string, run: () => Promise<{ data: T }>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      await pacer?.take()
      try {
        const { data } = await run()
        streak = 0
        return data
      } catch (err) {
        const failed = classifyHttpError(`chatwoot: ${context}`, err)
        const throttled = err instanceof HttpError && err.status === 429
        if (!throttled || !pacer || attempt > 2 || !(failed instanceof TransientError)) throw failed
        const wait = throttleWait(failed, streak++)
        config.onThrottled?.(wait)
        if (wait > MAX_THROTTLE_WAIT_MS) throw failed
        pacer.pause(Date.now() + wait)
      }
    }
  }
  return {
    createMessage: (account: number, conversation: number, body: ChatwootMessageBody) =>
      call<{ id: number }>('create message', () =>
        http.post(`${conversationPath(account, conversation)}/messages`, body),
      ),
    /** The latest messages of a conversation (Chatwoot returns up to 20, oldest first). */
    listMessages: (account: number, conversation: number) =>
      call<{ payload: ListedMessage[] }>('list messages', () =>
        http.get(`${conversationPath(account, conversation)}/messages`),
      ),
    assignTeam: (account: number, conversation: number, teamId: number) =>
      call<unknown>('assign team', () =>
        http.post(`${conversationPath(account, conversation)}/assignments`, { team_id: teamId }),
      ),
    assignAgent: (account: number, conversation: number, assigneeId: number) =>
      call<unknown>('assign agent', () =>
        http.post(`${conversationPath(account, conversation)}/assignments`, {
          assignee_id: assigneeId,
        }),
      ),
    /** Contacts whose name, email, phone or identifier contains `query`. */
    searchContacts: (account: number, query: string) =>
      call<{ payload: ChatwootContactRecord[] }>('search contacts', () =>
        http.get(`/api/v1/accounts/${account}/contacts/search`, { params: { q: query } }),
      ),
    /** Chatwoot answers `{payload: {contact, contact_inbox}}` (older versions: the contact). */
    createContact: (account: number, body: ChatwootContactBody) =>
      call<{
        id?: number
        payload?: { contact?: ChatwootContactRecord; contact_inbox?: ContactInbox | null }
      }>('create contact', () => http.post(`/api/v1/accounts/${account}/contacts`, body)),
    createContactInbox: (account: number, contact: number, inboxId: number) =>
      call<ContactInbox>('link contact to inbox', () =>
        http.post(`/api/v1/accounts/${account}/contacts/${contact}/contact_inboxes`, {
          inbox_id: inboxId,
        }),
      ),
    contactConversations: (account: number, contact: number) =>
      call<{ payload: ListedConversation[] }>('list contact conversations', () =>
        http.get(`/api/v1/accounts/${account}/contacts/${contact}/conversations`),
      ),
    createConversation: (account: number, body: ChatwootConversationBody) =>
      call<{ id: number }>('create conversation', () =>
        http.post(`/api/v1/accounts/${account}/conversations`, body),
      ),
    /** One conversation; `meta.assignee` is the agent it is assigned to, if any. */
    getConversation: (account: number, conversation: number) =>
      call<{ id: number; meta?: { assignee?: { id: number } | null } | null }>(
        'get conversation',
        () => http.get(conversationPath(account, conversation)),
      ),
    /** Agents of a team with their availability (`online`, `busy`, `offline`). */
    teamMembers: (account: number, team: number) =>
      call<{ id: number; availability_status?: string | null }[]>('list team members', () =>
        http.get(`/api/v1/accounts/${account}/teams/${team}/team_members`),
      ),
    listTeams: (account: number) =>
      call<{ id: number; name: string }[]>('list teams', () =>
        http.get(`/api/v1/accounts/${account}/teams`),
      ),
    getLabels: (account: number, conversation: number) =>
      call<{ payload: string[] }>('get labels', () =>
        http.get(`${conversationPath(account, conversation)}/labels`),
      ),
    /** Replaces the conversation's labels (Chatwoot overwrites the list). */
    setLabels: (account: number, conversation: number, labels: string[]) =>
      call<unknown>('set labels', () =>
        http.post(`${conversationPath(account, conversation)}/labels`, { labels }),
      ),
    setPriority: (
      account: number,
      conversation: number,
      priority: 'urgent' | 'high' | 'medium' | 'low' | 'none',
    ) =>
      call<unknown>('set priority', () =>
        http.post(`${conversationPath(account, conversation)}/toggle_priority`, { priority }),
      ),
  }
}

export type ChatwootApi = ReturnType<typeof chatwootApi>
