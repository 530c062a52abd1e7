import { boundHttpClient, classifyHttpError } from '../../src/actions/http-client.js'

export type ChatwootApiConfig = { baseUrl: string; token: string }

export type ChatwootMessageBody = {
  content: string
  message_type: 'outgoing' | 'incoming'
  private: boolean
  content_type?: 'text'
  content_attributes?: Record<string, unknown>
}

type ListedMessage = { id: number; content_attributes?: Record<string, unknown> | null }

/**
 * The calls the hub makes to Chatwoot's Application API (auth header `api_access_token`).
 * Every request is checked against Chatwoot's OpenAPI file in the contract tests.
 */
export function chatwootApi(config: ChatwootApiConfig) {
  const http = boundHttpClient(config.baseUrl, { api_access_token: config.token })
  const conversationPath = (account: number, conversation: number) =>
    `/api/v1/accounts/${account}/conversations/${conversation}`
  const call = async <T>(context: string, run: () => Promise<{ data: T }>): Promise<T> => {
    try {
      return (await run()).data
    } catch (err) {
      throw classifyHttpError(`chatwoot: ${context}`, err)
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
