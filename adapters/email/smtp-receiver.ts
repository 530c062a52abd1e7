import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import type { Source, SourceDeps } from '../../src/contracts/channel.js'

/** Stores one received message; `note` says what of it was not fetched (kept with it). */
export type ReceivedMail = (
  raw: Buffer,
  note?: string,
) => Promise<{ outcome: string; reason?: string }>

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode })
}

/**
 * An SMTP listener for forwarded mail. It accepts only the hub's own addresses and the queue
 * mailboxes (it is not a relay), refuses messages over the size limit, and answers 250 only
 * after the message is committed: a sender whose connection drops before that retries.
 */
export function smtpReceiver(options: {
  port: number
  host: string
  maxBytes: number
  /** Clients connected at once; more are told 421 (try again in a moment). */
  maxClients: number
  deps: SourceDeps
  receive: ReceivedMail
}): Source {
  const { deps } = options
  let lastError: string | null = null
  let listening = false
  const server = new SMTPServer({
    name: 'centralita',
    banner: 'centralita mail intake',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: options.maxBytes,
    maxClients: options.maxClients,
    // An idle or slow client lets go of its connection within a minute.
    socketTimeout: 60_000,
    logger: false,
    onMailFrom(_address, _session, callback) {
      // Behind: a temporary refusal, and the sending server tries again later.
      if (deps.busy()) return callback(smtpError('4.3.2 system busy, try again later', 451))
      callback()
    },
    onRcptTo(address, _session, callback) {
      const allowed = new Set(deps.mailboxes().map((m) => m.toLowerCase()))
      if (allowed.has(address.address.toLowerCase())) return callback()
      callback(smtpError(`5.1.1 <${address.address}>: recipient not accepted here`, 550))
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = []
      let size = 0
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= options.maxBytes) chunks.push(chunk)
      })
      stream.on('error', (err) => callback(smtpError(`4.3.0 ${err.message}`, 451)))
      stream.on('end', () => {
        if (
          (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded ||
          size > options.maxBytes
        ) {
          callback(smtpError('5.3.4 message too big', 552))
          return
        }
        options
          .receive(Buffer.concat(chunks))
          .then((result) => {
            if (result.outcome === 'store_failed') {
              callback(smtpError('4.3.0 could not store the message, try again later', 451))
              return
            }
            if (result.outcome === 'invalid_payload') {
              callback(smtpError(`5.6.0 ${result.reason ?? 'not a valid message'}`, 550))
              return
            }
            deps.logger.info(
              { outcome: result.outcome, remote: session.remoteAddress },
              'smtp message received',
            )
            callback()
          })
          .catch((err: Error) => {
            deps.logger.error({ err }, 'smtp intake failed')
            callback(smtpError('4.3.0 temporary failure, try again later', 451))
          })
      })
    },
  })
  server.on('error', (err) => {
    lastError = err.message
    deps.logger.warn({ err: err.message }, 'smtp receiver error')
  })
  return {
    name: 'smtp',
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port, options.host, () => {
          listening = true
          server.off('error', reject)
          deps.logger.info({ port: options.port }, 'smtp receiver listening')
          resolve()
        })
      }),
    stop: () =>
      new Promise((resolve) => {
        if (!listening) return resolve()
        listening = false
        server.close(() => resolve())
      }),
    health: () =>
      listening ? (lastError ? `listening (last error: ${lastError})` : 'ok') : 'stopped',
  }
}
