import type { AddressInfo } from 'node:net'
import PostalMime, { type Email } from 'postal-mime'
import { SMTPServer } from 'smtp-server'

export type SunkMail = {
  envelope: { from: string; to: string[] }
  raw: Buffer
  parsed: Email
  /** Lower-cased header name → first value. */
  header(name: string): string | undefined
}

/**
 * A real SMTP server on loopback that records every message the hub sends through it
 * (SMTP_URL=smtp://127.0.0.1:<port>?tls=off). `fail` makes the next messages get an SMTP error.
 */
export async function startSmtpSink() {
  const received: SunkMail[] = []
  const faults: { code: number; times: number; message: string }[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const fault = faults.find((f) => f.times > 0)
        if (fault) {
          fault.times--
          const to = session.envelope.rcptTo.map((r) => r.address).join(', ')
          callback(
            Object.assign(new Error(fault.message.replace('{to}', to)), {
              responseCode: fault.code,
            }),
          )
          return
        }
        const raw = Buffer.concat(chunks)
        PostalMime.parse(raw).then(
          (parsed) => {
            received.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              raw,
              parsed,
              header: (name) =>
                parsed.headers.find((h) => h.key.toLowerCase() === name.toLowerCase())?.value,
            })
            callback()
          },
          (err: Error) => callback(err),
        )
      })
    },
  })
  // A client that dies mid-session (the hub killed in a crash test) is not the sink's error.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}?tls=off`,
    received,
    /**
     * Answer the next `times` messages with SMTP `code` (4xx temporary, 5xx permanent) and
     * `message` ({to} stands for the recipients, as real servers name them).
     */
    fail: (code: number, times = 1, message = `injected ${code}`) =>
      faults.push({ code, times, message }),
    to: (address: string) => received.filter((m) => m.envelope.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>
