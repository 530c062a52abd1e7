import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'

// The send-message request as Meta documents it (Cloud API "Messages" reference; Meta's Node
// SDK src/api/messages.ts and pywa api.py build the same body). Strict: an unknown field fails.
const SendText = z
  .object({
    messaging_product: z.literal('whatsapp'),
    recipient_type: z.literal('individual'),
    to: z.string().regex(/^\d{6,15}$/),
    type: z.literal('text'),
    text: z
      .object({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() })
      .strict(),
    context: z
      .object({ message_id: z.string().min(1) })
      .strict()
      .optional(),
    biz_opaque_callback_data: z.string().max(512).optional(),
  })
  .strict()

export type GraphRequest = {
  method: string
  path: string
  authorization: string | undefined
  body: unknown
  violations: string[]
}

type Fault = { status: number; times: number; afterAccept?: boolean }

/**
 * A loopback Graph API: `POST /<version>/<phone-number-id>/messages` with a bearer token,
 * checked against the documented body. It answers like Meta (`messages[0].id`) and can fail:
 * an HTTP status, or (afterAccept) keep the message and drop the connection before answering.
 */
export async function startFakeGraph(options: { token?: string; version?: string } = {}) {
  const token = options.token ?? 'graph-test-token'
  const version = options.version ?? 'v25.0'
  const requests: GraphRequest[] = []
  const sent: {
    id: string
    to: string
    text: string
    replyTo: string | null
    callbackKey: string | null
  }[] = []
  const faults: Fault[] = []
  let next = 1
  let statusHook: { url: string; appSecret: string; phoneNumberId: string } | null = null

  /**
   * Like Meta: a `sent` status for each accepted message goes to the app's webhook, signed,
   * carrying the message's biz_opaque_callback_data; retried while the webhook is unreachable.
   */
  const postStatus = async (message: { id: string; to: string; callbackKey: string | null }) => {
    const hook = statusHook
    if (!hook) return
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1029384756102938',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: '56229876543',
                  phone_number_id: hook.phoneNumberId,
                },
                statuses: [
                  {
                    id: message.id,
                    status: 'sent',
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: message.to,
                    ...(message.callbackKey
                      ? { biz_opaque_callback_data: message.callbackKey }
                      : {}),
                  },
                ],
              },
            },
          ],
        },
      ],
    })
    const signature = `sha256=${createHmac('sha256', hook.appSecret).update(body).digest('hex')}`
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const res = await fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body,
        })
        if (res.ok) return
      } catch {
        // the hub is down: Meta keeps trying
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const violations: string[] = []
    let body: unknown
    try {
      body = JSON.parse(raw)
    } catch {
      violations.push('body is not JSON')
    }
    const path = (req.url ?? '').split('?')[0]!
    const match = new RegExp(`^/${version.replace('.', '\\.')}/(\\d+)/messages$`).exec(path)
    if (req.method !== 'POST' || !match) violations.push(`no such operation: ${req.method} ${path}`)
    if (req.headers.authorization !== `Bearer ${token}`)
      violations.push('wrong or missing bearer token')
    if (req.headers['content-type']?.startsWith('application/json') !== true)
      violations.push('not application/json')
    const parsed = SendText.safeParse(body)
    if (!parsed.success)
      violations.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`))
    requests.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      body,
      violations,
    })
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    }
    if (violations.length > 0) {
      return reply(violations.some((v) => v.includes('bearer')) ? 401 : 400, {
        error: { message: violations.join('; '), type: 'OAuthException', code: 100 },
      })
    }
    const fault = faults.find((f) => f.times > 0)
    if (fault && !fault.afterAccept) {
      fault.times--
      return reply(fault.status, {
        error: { message: 'injected', code: fault.status === 429 ? 130429 : 1 },
      })
    }
    const data = parsed.data!
    const id = `wamid.FAKE${String(next++).padStart(6, '0')}`
    const message = {
      id,
      to: data.to,
      text: data.text.body,
      replyTo: data.context?.message_id ?? null,
      callbackKey: data.biz_opaque_callback_data ?? null,
    }
    sent.push(message)
    void postStatus(message)
    if (fault?.afterAccept) {
      fault.times--
      req.socket.destroy()
      return
    }
    reply(200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: data.to, wa_id: data.to }],
      messages: [{ id }],
    })
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/${version}`,
    token,
    requests,
    sent,
    fail: (fault: Fault) => faults.push(fault),
    /** Send Meta-style `sent` status callbacks to the hub's webhook from now on. */
    sendStatusesTo: (url: string, appSecret: string, phoneNumberId = '110022003300440') => {
      statusHook = { url, appSecret, phoneNumberId }
    },
    violations: () =>
      requests.flatMap((r) => r.violations.map((v) => `${r.method} ${r.path}: ${v}`)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export type FakeGraph = Awaited<ReturnType<typeof startFakeGraph>>
