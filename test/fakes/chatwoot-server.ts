import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { openApiChecker } from '../helpers/openapi.js'

export type RecordedRequest = {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
  violations: string[]
  /** When the fake took it (epoch ms), after its latency. */
  at: number
}

/** Runs `run` right after the fake has answered a matching request (a change made elsewhere). */
type AfterHook = { match: RegExp; times: number; run: () => void }
/** Answers a matching request as usual, from the state of the moment, but `delayMs` later. */
type SlowAnswer = { match: RegExp; times: number; delayMs: number }

type Fault = {
  status: number
  headers?: Record<string, string>
  times: number
  match?: RegExp
  delayMs?: number
  /** Do the work, then drop the connection before answering (the caller cannot know). */
  afterAccept?: boolean
  /** Let this many matching requests through first. */
  skip?: number
}

const checkChatwoot = openApiChecker(join(import.meta.dirname, '../fixtures/chatwoot/swagger.json'))

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      if (text === '') return resolve(undefined)
      try {
        resolve(JSON.parse(text))
      } catch {
        resolve({ __unparseable: text })
      }
    })
  })
}

/**
 * A loopback Chatwoot: answers the Application API calls the hub makes, keeps the state they
 * change (messages, labels, assignments, priority), and checks every request against
 * Chatwoot's OpenAPI file. Requests that break the spec are answered 400 and recorded.
 */
export async function startFakeChatwoot(
  options: {
    token?: string
    teams?: { id: number; name: string }[]
    /** Agents per team id, with their availability. */
    members?: Record<
      number,
      { id: number; name: string; availability_status: 'online' | 'busy' | 'offline' }[]
    >
    /** Answers every request this much later, as a real server takes its time (benchmarks). */
    latencyMs?: number
    /**
     * Throttles like Chatwoot's Rack::Attack (`req/ip`, RACK_ATTACK_LIMIT, 3,000 by default):
     * at most `perMinute` requests per client address in each minute of the epoch; past it,
     * 429 "Retry later" with no Retry-After, before the request reaches the API.
     */
    throttle?: { perMinute: number }
  } = {},
) {
  const members = options.members ?? {}
  const token = options.token ?? 'cw-test-token'
  const teams = options.teams ?? [
    { id: 1, name: 'general' },
    { id: 2, name: 'ventas' },
    { id: 3, name: 'comercial' },
    { id: 4, name: 'finanzas' },
    { id: 5, name: 'calidad' },
    { id: 6, name: 'supervisor' },
    { id: 7, name: 'legal' },
  ]
  const requests: RecordedRequest[] = []
  const messages = new Map<
    string,
    {
      id: number
      content: string
      private: boolean
      message_type: string
      content_attributes: Record<string, unknown>
    }[]
  >()
  type Contact = {
    id: number
    name: string | null
    email: string | null
    phone_number: string | null
    identifier: string | null
    additional_attributes: Record<string, unknown>
    contact_inboxes: { source_id: string; inbox: { id: number } }[]
  }
  type Conversation = {
    id: number
    account_id: number
    inbox_id: number
    contact_id: number
    status: string
    custom_attributes: Record<string, unknown>
    additional_attributes: Record<string, unknown>
  }
  const contacts: Contact[] = []
  const conversations = new Map<number, Conversation>()
  let nextContactId = 900
  let nextConversationId = 7000
  let nextSourceId = 1
  const labels = new Map<string, string[]>()
  const assignments = new Map<string, { team_id?: number; assignee_id?: number }>()
  const priorities = new Map<string, string>()
  /** Each conversation's team now (`account:conversation` → team id). */
  const teamOf = new Map<string, number>()
  /** Requests per client address in the current minute, and the ones answered 429. */
  const windows = new Map<string, { minute: number; count: number }>()
  let throttled = 0
  /** The agent each conversation is assigned to now (`account:conversation` → user id). */
  const assignees = new Map<string, number>()
  /** Conversations taken from the agent they had and given to another (one entry each time). */
  const reassigned: string[] = []
  const faults: Fault[] = []
  const hooks: AfterHook[] = []
  const slow: SlowAnswer[] = []
  let nextMessageId = 50_000

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (options.throttle) {
      const minute = Math.floor(Date.now() / 60_000)
      const address = req.socket.remoteAddress ?? ''
      const window = windows.get(address)
      const count = window?.minute === minute ? window.count + 1 : 1
      windows.set(address, { minute, count })
      if (count > options.throttle.perMinute) {
        throttled++
        req.resume()
        res.writeHead(429, { 'content-type': 'text/plain' })
        res.end('Retry later\n')
        return
      }
    }
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs))
    const body = await readJson(req)
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname
    const violations = checkChatwoot({
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
    })
    if (req.headers.api_access_token !== token) violations.push('wrong api_access_token')
    requests.push({
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      violations,
      at: Date.now(),
    })
    if (violations.length > 0)
      return send(res, violations.includes('wrong api_access_token') ? 401 : 400, {
        error: violations,
      })
    const fault = faults.find((f) => {
      if (f.times <= 0 || (f.match && !f.match.test(`${req.method} ${path}`))) return false
      if (!f.skip) return true
      f.skip--
      return false
    })
    if (fault?.afterAccept) {
      fault.times--
      return route(req, path, url, body, () => req.socket.destroy())
    }
    if (fault) {
      fault.times--
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs))
      if (fault.status === 0) {
        req.socket.destroy()
        return
      }
      return send(res, fault.status, { error: 'injected fault' }, fault.headers)
    }
    const late = slow.find((l) => l.times > 0 && l.match.test(`${req.method} ${path}`))
    if (late) late.times--
    await route(req, path, url, body, (status, payload) => {
      if (late) setTimeout(() => send(res, status, payload), late.delayMs)
      else send(res, status, payload)
    })
    const hook = hooks.find((h) => h.times > 0 && h.match.test(`${req.method} ${path}`))
    if (hook) {
      hook.times--
      hook.run()
    }
  }

  /** The fake's answers to the API calls; `reply` sends (or, for a fault, drops) the answer. */
  const route = async (
    req: IncomingMessage,
    path: string,
    url: URL,
    body: unknown,
    reply: (status: number, payload: unknown) => void,
  ): Promise<void> => {
    const conv = /^\/api\/v1\/accounts\/(\d+)\/conversations\/(\d+)(\/.*)?$/.exec(path)
    if (conv) {
      const key = `${conv[1]}:${conv[2]}`
      const rest = conv[3] ?? ''
      const payload = (body ?? {}) as Record<string, unknown>
      if (rest === '/messages' && req.method === 'POST') {
        const message = {
          id: nextMessageId++,
          content: String(payload.content),
          private: payload.private === true,
          message_type: String(payload.message_type ?? 'outgoing'),
          content_attributes: (payload.content_attributes as Record<string, unknown>) ?? {},
        }
        messages.set(key, [...(messages.get(key) ?? []), message])
        return reply(200, {
          ...message,
          message_type: message.message_type === 'incoming' ? 0 : 1,
        })
      }
      if (rest === '/messages' && req.method === 'GET') {
        return reply(200, { meta: {}, payload: (messages.get(key) ?? []).slice(-20) })
      }
      if (rest === '/labels' && req.method === 'GET')
        return reply(200, { payload: labels.get(key) ?? [] })
      if (rest === '/labels' && req.method === 'POST') {
        labels.set(key, payload.labels as string[])
        return reply(200, { payload: labels.get(key) })
      }
      if (rest === '/assignments') {
        assignments.set(key, payload as { team_id?: number })
        // As Chatwoot (AssignmentHandler): a new team keeps the agent only if they are in it.
        if (typeof payload.assignee_id === 'number') {
          const current = assignees.get(key)
          if (current !== undefined && current !== payload.assignee_id) reassigned.push(key)
          assignees.set(key, payload.assignee_id)
        } else if (typeof payload.team_id === 'number') {
          teamOf.set(key, payload.team_id)
          const team = members[payload.team_id] ?? []
          if (!team.some((m) => m.id === assignees.get(key))) assignees.delete(key)
        }
        return reply(200, {})
      }
      if (rest === '' && req.method === 'GET') {
        const id = Number(conv[2])
        const agent = assignees.get(key)
        return reply(200, {
          ...(conversations.get(id) ?? { id, account_id: Number(conv[1]), status: 'open' }),
          meta: { assignee: agent === undefined ? null : { id: agent } },
        })
      }
      if (rest === '/toggle_priority') {
        priorities.set(key, String(payload.priority))
        return reply(200, {})
      }
    }
    if (/^\/api\/v1\/accounts\/\d+\/teams$/.test(path)) return reply(200, teams)
    const teamMembers = /^\/api\/v1\/accounts\/\d+\/teams\/(\d+)\/team_members$/.exec(path)
    if (teamMembers && req.method === 'GET') {
      return reply(
        200,
        (members[Number(teamMembers[1])] ?? []).map((m) => ({
          ...m,
          role: 'agent',
          confirmed: true,
        })),
      )
    }
    const payload = (body ?? {}) as Record<string, unknown>
    if (/^\/api\/v1\/accounts\/\d+\/contacts\/search$/.test(path)) {
      const q = (url.searchParams.get('q') ?? '').toLowerCase()
      const found = contacts.filter((c) =>
        [c.name, c.email, c.phone_number, c.identifier].some((v) => v?.toLowerCase().includes(q)),
      )
      return reply(200, { meta: { count: found.length, current_page: 1 }, payload: found })
    }
    if (/^\/api\/v1\/accounts\/\d+\/contacts$/.test(path) && req.method === 'POST') {
      const taken = contacts.find(
        (c) =>
          (payload.email && c.email === payload.email) ||
          (payload.identifier && c.identifier === payload.identifier),
      )
      if (taken) return reply(422, { message: 'Email has already been taken' })
      const inbox = { source_id: `src-${nextSourceId++}`, inbox: { id: Number(payload.inbox_id) } }
      const contact: Contact = {
        id: nextContactId++,
        name: (payload.name as string) ?? null,
        email: (payload.email as string) ?? null,
        phone_number: (payload.phone_number as string) ?? null,
        identifier: (payload.identifier as string) ?? null,
        additional_attributes: (payload.additional_attributes as Record<string, unknown>) ?? {},
        contact_inboxes: [inbox],
      }
      contacts.push(contact)
      return reply(200, { payload: { contact, contact_inbox: inbox } })
    }
    const contactPath =
      /^\/api\/v1\/accounts\/\d+\/contacts\/(\d+)\/(contact_inboxes|conversations)$/.exec(path)
    if (contactPath) {
      const contact = contacts.find((c) => c.id === Number(contactPath[1]))
      if (!contact) return reply(404, { error: 'contact not found' })
      if (contactPath[2] === 'contact_inboxes') {
        const inbox = {
          source_id: `src-${nextSourceId++}`,
          inbox: { id: Number(payload.inbox_id) },
        }
        contact.contact_inboxes.push(inbox)
        return reply(200, inbox)
      }
      const list = [...conversations.values()].filter((c) => c.contact_id === contact.id)
      return reply(200, { payload: list })
    }
    const accountConversations = /^\/api\/v1\/accounts\/(\d+)\/conversations$/.exec(path)
    if (accountConversations && req.method === 'POST') {
      const contact = contacts.find((c) => c.id === Number(payload.contact_id))
      const linked = contact?.contact_inboxes.some(
        (ci) => ci.source_id === payload.source_id && ci.inbox.id === Number(payload.inbox_id),
      )
      if (!linked)
        return reply(422, { message: 'source_id does not belong to the contact and inbox' })
      const conversation: Conversation = {
        id: nextConversationId++,
        account_id: Number(accountConversations[1]),
        inbox_id: Number(payload.inbox_id),
        contact_id: Number(payload.contact_id),
        status: String(payload.status ?? 'open'),
        custom_attributes: (payload.custom_attributes as Record<string, unknown>) ?? {},
        additional_attributes: (payload.additional_attributes as Record<string, unknown>) ?? {},
      }
      conversations.set(conversation.id, conversation)
      return reply(200, {
        id: conversation.id,
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
      })
    }
    return reply(404, { error: 'not handled by the fake' })
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: 'fake failed' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    messages,
    labels,
    assignments,
    assignees,
    reassigned,
    priorities,
    contacts,
    conversations,
    /** Answer the next `times` matching requests with `status` (0 drops the connection). */
    fail: (fault: Fault) => faults.push(fault),
    /** Change the fake's state right after it answers the next `times` matching requests. */
    afterAnswering: (hook: AfterHook) => hooks.push(hook),
    /** Answer the next `times` matching requests late: the caller acts on what it read then. */
    answerLate: (late: SlowAnswer) => slow.push(late),
    violations: () =>
      requests.flatMap((r) => r.violations.map((v) => `${r.method} ${r.path}: ${v}`)),
    /** Requests answered 429 by the throttle. */
    get throttled() {
      return throttled
    },
    /**
     * A conversation's labels, priority, team and agent now, as Chatwoot puts them in the
     * `conversation` of its webhooks.
     */
    conversationState(account: number, conversation: number) {
      const key = `${account}:${conversation}`
      const team = teams.find((t) => t.id === teamOf.get(key)) ?? null
      const agent = assignees.get(key)
      return {
        labels: labels.get(key) ?? [],
        priority: priorities.get(key) ?? null,
        team,
        assignee: agent === undefined ? null : { id: agent },
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export type FakeChatwoot = Awaited<ReturnType<typeof startFakeChatwoot>>
