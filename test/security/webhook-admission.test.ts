import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { listeningHubs } from '../helpers/hub.js'
import { chatwootHeaders } from '../helpers/sign.js'

// Security review, medium: webhook bodies were read before any authentication, even for
// disabled channels; 256 idle connections made a valid signed webhook get 503.

const hubs = listeningHubs({
  CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
  EMAIL_WEBHOOK_SECRET: SECRETS.email,
})

/** Starts a POST of `declared` bytes, sends its first chunk, and waits for an answer. */
function startUpload(
  port: number,
  path: string,
  headers: Record<string, string>,
  options: { declared: number; localAddress?: string },
): { req: ClientRequest; answered: Promise<IncomingMessage> } {
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    headers: { ...headers, 'content-length': String(options.declared) },
  })
  req.on('error', () => {})
  const answered = new Promise<IncomingMessage>((resolve) => req.on('response', resolve))
  req.write(Buffer.alloc(Math.min(64 * 1024, options.declared - 1), 'a'))
  return { req, answered }
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms),
    ),
  ])

describe('webhook admission before the body', () => {
  it('refuses a wrong email token before reading a 24 MB body', async () => {
    const { port } = await hubs.start()
    const upload = startUpload(
      port,
      '/webhooks/email',
      { 'content-type': 'message/rfc822', authorization: 'Bearer wrong-token-0000000000' },
      { declared: 24 * 1024 * 1024 },
    )
    const res = await within(upload.answered, 2000)
    expect(res.statusCode).toBe(401)
    expect(res.headers.connection).toBe('close')
    upload.req.destroy()
  })

  it('refuses a disabled channel before reading the body', async () => {
    const { port } = await hubs.start()
    const upload = startUpload(
      port,
      '/webhooks/tawkto',
      { 'content-type': 'application/json' },
      { declared: 900 * 1024 },
    )
    expect((await within(upload.answered, 2000)).statusCode).toBe(401)
    upload.req.destroy()
  })

  it('keeps slots for signed senders while one address holds many slow uploads', async () => {
    const { port, base } = await hubs.start()
    const body = JSON.stringify(payloads.chatwoot(1, 900, 'hola', { id: 1, name: 'Ana' }))
    // 256 uploads that look signed and never finish, all from 127.0.0.2.
    const slow = Array.from({ length: 256 }, () =>
      startUpload(port, '/webhooks/chatwoot', chatwootHeaders(body, SECRETS.chatwoot), {
        declared: body.length + 1000,
        localAddress: '127.0.0.2',
      }),
    )
    try {
      await new Promise((r) => setTimeout(r, 300))
      const res = await deliver(base).chatwoot(
        payloads.chatwoot(2, 901, '¿A qué hora abren?', { id: 2, name: 'Luis' }),
        'admission-1',
      )
      expect(res.status).toBe(200)
    } finally {
      for (const upload of slow) upload.req.destroy()
    }
  })

  it('gives up a body that stops coming, and headers that never end', async () => {
    const { port } = await hubs.start({
      HTTP_BODY_IDLE_MS: '300',
      HTTP_HEADERS_TIMEOUT_MS: '500',
    })
    const body = JSON.stringify(payloads.chatwoot(3, 902, 'hola', { id: 3, name: 'Eva' }))
    const stalled = startUpload(
      port,
      '/webhooks/chatwoot',
      chatwootHeaders(body, SECRETS.chatwoot),
      {
        declared: body.length + 1000,
      },
    )
    const closed = new Promise<void>((resolve) => stalled.req.on('close', () => resolve()))
    await within(closed, 3000)
    // A request line, and then nothing.
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    const answered = new Promise<string>((resolve) => {
      let got = ''
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString()
      })
      socket.on('end', () => resolve(got))
      socket.on('close', () => resolve(got))
    })
    socket.write('POST /webhooks/chatwoot HTTP/1.1\r\nHost: x\r\n')
    expect(await within(answered, 6000)).toMatch(/^HTTP\/1\.1 408 /)
    socket.destroy()
  })
})
