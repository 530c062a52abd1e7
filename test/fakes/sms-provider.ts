import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type SmsRequest = {
  kind: 'message' | 'call'
  to: string
  from: string
  body: string
  violations: string[]
}

/**
 * A loopback Twilio-compatible REST API: `POST /2010-04-01/Accounts/{sid}/Messages.json` (To,
 * From, Body) and `…/Calls.json` (To, From, Twiml), form-encoded, with HTTP basic auth. Each
 * request is checked (path, auth, content type, required fields, E.164 numbers) and recorded.
 */
export async function startFakeSmsProvider(options: { sid?: string; token?: string } = {}) {
  const sid = options.sid ?? 'AC0123456789abcdef'
  const token = options.token ?? 'sms-auth-token'
  const requests: SmsRequest[] = []
  let next = 1
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const violations: string[] = []
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(req.url ?? '')
      if (req.method !== 'POST' || !match)
        violations.push(`no such operation: ${req.method} ${req.url}`)
      if (match && match[1] !== sid) violations.push('wrong account sid in the path')
      const expected = `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`
      if (req.headers.authorization !== expected) violations.push('wrong basic auth')
      if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded'))
        violations.push('not form-encoded')
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const kind = match?.[2] === 'Calls' ? 'call' : 'message'
      for (const field of ['To', 'From', kind === 'call' ? 'Twiml' : 'Body']) {
        if (!form.get(field)) violations.push(`missing ${field}`)
      }
      for (const field of ['To', 'From']) {
        if (form.get(field) && !/^\+\d{6,15}$/.test(form.get(field)!))
          violations.push(`${field} is not E.164`)
      }
      requests.push({
        kind,
        to: form.get('To') ?? '',
        from: form.get('From') ?? '',
        body: form.get(kind === 'call' ? 'Twiml' : 'Body') ?? '',
        violations,
      })
      res.writeHead(violations.length ? 400 : 201, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(
          violations.length
            ? { message: violations.join('; ') }
            : { sid: `${kind === 'call' ? 'CA' : 'SM'}${next++}` },
        ),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sid,
    token,
    requests,
    violations: () => requests.flatMap((r) => r.violations),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A loopback ntfy server: records what is published (JSON to the root URL). */
export async function startPushReceiver() {
  const published: { topic: string; title: string; message: string; priority: number }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        published.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    published,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
