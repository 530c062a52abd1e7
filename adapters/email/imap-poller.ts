import { ImapFlow } from 'imapflow'
import type { Source, SourceDeps } from '../../src/contracts/channel.js'
import type { ReceivedMail } from './smtp-receiver.js'

type Position = { uidValidity: string; lastUid: number }

/**
 * Reads a mailbox over IMAP. It remembers the mailbox's UIDVALIDITY and the last UID it
 * stored, and advances that position only after the message is committed, so a restart
 * neither skips nor repeats (a repeat would be caught by the Message-ID anyway). A new
 * UIDVALIDITY (the mailbox was recreated) reads it again as a new mailbox.
 */
export function imapPoller(options: {
  url: string
  pollMs: number
  /** How far back a mailbox seen for the first time is read. */
  backfillMs: number
  /** A message larger than this is not downloaded: its headers are stored, with a note. */
  maxBytes: number
  deps: SourceDeps
  receive: ReceivedMail
}): Source {
  const { deps } = options
  const url = new URL(options.url)
  const mailbox = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'INBOX'
  const secure = url.protocol === 'imaps:'
  const stateKey = `imap:${url.hostname}:${decodeURIComponent(url.username)}:${mailbox}`
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = true
  let failures = 0
  let status = 'not started'

  const readPosition = async (): Promise<Position | null> => {
    const raw = await deps.state.get(stateKey)
    return raw ? (JSON.parse(raw) as Position) : null
  }

  const poll = async () => {
    if (deps.busy()) return // behind: the mail waits in the mailbox until the backlog drains
    const client = new ImapFlow({
      host: url.hostname,
      port: url.port ? Number(url.port) : secure ? 993 : 143,
      secure,
      auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    })
    client.on('error', (err: Error) =>
      deps.logger.warn({ err: err.message }, 'imap connection error'),
    )
    await client.connect()
    try {
      const box = await client.mailboxOpen(mailbox, { readOnly: true })
      const uidValidity = String(box.uidValidity)
      let position = await readPosition()
      if (!position || position.uidValidity !== uidValidity) {
        if (position)
          deps.logger.warn({ mailbox }, 'imap UIDVALIDITY changed, reading the mailbox again')
        // A mailbox seen for the first time is read from `backfillMs` ago, not from its first
        // message: years-old mail is not the hub's to answer.
        const since = new Date(deps.now().getTime() - options.backfillMs)
        const recent = box.exists === 0 ? [] : await client.search({ since }, { uid: true })
        const first = recent && recent.length > 0 ? Math.min(...recent) : Number(box.uidNext ?? 1)
        position = { uidValidity, lastUid: Math.max(0, first - 1) }
        await deps.state.set(stateKey, JSON.stringify(position))
      }
      if (box.exists === 0) return
      // Sizes first: a message over the limit is never downloaded whole.
      const waiting: { uid: number; size: number }[] = []
      for await (const message of client.fetch(
        `${position.lastUid + 1}:*`,
        { uid: true, size: true },
        { uid: true },
      )) {
        // "n:*" always returns the last message, even below n.
        if (message.uid > position.lastUid)
          waiting.push({ uid: message.uid, size: message.size ?? 0 })
      }
      for (const { uid, size } of waiting) {
        const big = size > options.maxBytes
        const message = await client.fetchOne(
          String(uid),
          big ? { uid: true, headers: true } : { uid: true, source: true },
          { uid: true },
        )
        const raw = message ? (big ? message.headers : message.source) : undefined
        if (raw) {
          const note = big
            ? `the message (${Math.round(size / 1024)} KB) is over MIME_BODY_LIMIT: only its headers were fetched`
            : undefined
          const result = await options.receive(raw, note)
          if (result.outcome === 'store_failed')
            throw new Error('could not store a message; will retry')
        }
        position = { uidValidity, lastUid: uid }
        await deps.state.set(stateKey, JSON.stringify(position))
      }
    } finally {
      await client.logout().catch(() => client.close())
    }
  }

  const schedule = (ms: number) => {
    if (stopped) return
    timer = setTimeout(() => {
      running = poll().then(
        () => {
          failures = 0
          status = 'ok'
          schedule(options.pollMs)
        },
        (err: Error) => {
          failures++
          status = `error: ${err.message}`
          deps.logger.warn({ err: err.message, failures }, 'imap poll failed')
          // Back off on repeated failures, up to ten polling intervals.
          schedule(options.pollMs * Math.min(10, 2 ** Math.min(failures, 4)))
        },
      )
    }, ms)
    timer.unref()
  }

  return {
    name: 'imap',
    start: async () => {
      stopped = false
      schedule(0)
    },
    stop: async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
    health: () => status,
  }
}
