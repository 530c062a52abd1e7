import type { Worker } from 'node:worker_threads'
import { startThread } from '../../src/kit/start-thread.js'
import type { MimeAnswer, MimeRequest } from './mime-thread.js'
import { type HtmlMode, messageIds, type ParsedMail } from './parse-mime.js'

/**
 * Mail is parsed on a thread of its own, one message at a time, so that no message (a
 * megabyte of nested <div>s, a pathological MIME tree) holds the hub's event loop. A message
 * the thread cannot finish in `timeoutMs` is read again with its HTML stripped instead of
 * converted; failing that, its headers are read here (bounded) and it is stored without text.
 * Either way it is stored, with a note saying what was left out; nothing is dropped.
 */
export type MimeParser = { parse(raw: Buffer): Promise<ParsedMail>; close(): Promise<void> }

/** Not an email message (no headers): the caller answers it as invalid. */
export class NotMailError extends Error {}

class TimedOut extends Error {}

/** How long the thread may take for one message, at most. */
const TIMEOUT_MS = 5000
/** An idle thread is stopped after this long (a hub that gets little mail keeps no isolate). */
const IDLE_MS = 30_000
/** Bytes of a message whose headers are read on this thread when the MIME thread gave up. */
const HEADER_SCAN = 64 * 1024

export function mimeParser(options: { timeoutMs?: number } = {}): MimeParser {
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS
  let worker: Worker | null = null
  let idle: NodeJS.Timeout | null = null
  let next = 0
  let queue: Promise<unknown> = Promise.resolve()
  const waiting = new Map<number, (answer: MimeAnswer | Error) => void>()

  const stop = async () => {
    const w = worker
    worker = null
    for (const [, settle] of waiting) settle(new Error('the MIME thread stopped'))
    waiting.clear()
    await w?.terminate()
  }
  const thread = () => {
    if (worker) return worker
    const w = startThread(import.meta.url, 'mime-thread', {
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    })
    w.on('message', (answer: MimeAnswer) => {
      waiting.get(answer.id)?.(answer)
      waiting.delete(answer.id)
    })
    const gone = (err: Error) => {
      if (worker === w) worker = null
      for (const [, settle] of waiting) settle(err)
      waiting.clear()
    }
    w.on('error', gone)
    w.on('exit', () => gone(new Error('the MIME thread exited')))
    // After the listeners: adding a 'message' listener refs the thread's port again, and an
    // idle thread must not keep the process (`centralita dry-run`) alive.
    w.unref()
    worker = w
    return w
  }

  /** One request to the thread; a thread that overruns is stopped (the next one starts anew). */
  const ask = (raw: Buffer, html: HtmlMode): Promise<ParsedMail> =>
    new Promise((resolve, reject) => {
      if (idle) clearTimeout(idle)
      const id = ++next
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new TimedOut())
        void stop()
      }, timeoutMs)
      waiting.set(id, (answer) => {
        clearTimeout(timer)
        idle = setTimeout(() => void stop(), IDLE_MS)
        idle.unref()
        if (answer instanceof Error) return reject(answer)
        if ('error' in answer) return reject(new NotMailError(answer.error))
        resolve({ ...answer.mail, headers: new Map(answer.mail.headers) })
      })
      // A copy of its own to hand over: the bytes are moved, not cloned.
      const bytes = new Uint8Array(raw.byteLength)
      bytes.set(raw)
      thread().postMessage({ id, raw: bytes, html } satisfies MimeRequest, [bytes.buffer])
    })

  const parse = async (raw: Buffer): Promise<ParsedMail> => {
    try {
      return await ask(raw, 'convert')
    } catch (err) {
      if (!(err instanceof TimedOut)) throw err
    }
    try {
      return await ask(raw, 'strip')
    } catch (err) {
      if (!(err instanceof TimedOut)) throw err
    }
    return headersOnly(raw)
  }

  return {
    // One message at a time: a slow one delays the next, never the event loop.
    parse: (raw) => {
      const run = queue.then(() => parse(raw))
      queue = run.catch(() => {})
      return run
    },
    close: stop,
  }
}

/** The message's headers, read here from its first bytes, when its body could not be read. */
export function headersOnly(raw: Buffer): ParsedMail {
  const head = raw.subarray(0, HEADER_SCAN).toString('latin1')
  const end = head.search(/\r?\n\r?\n/)
  const lines = (end < 0 ? head : head.slice(0, end)).split(/\r?\n(?![ \t])/)
  const headers = new Map<string, string[]>()
  for (const line of lines) {
    const at = line.indexOf(':')
    if (at <= 0) continue
    const key = line.slice(0, at).trim().toLowerCase()
    const value = line
      .slice(at + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim()
    headers.set(key, [...(headers.get(key) ?? []), value])
  }
  if (!headers.has('from') && !headers.has('message-id') && !headers.has('subject'))
    throw new NotMailError('not an email message: no headers')
  const first = (key: string) => headers.get(key)?.[0] ?? null
  const address = (value: string | null) => {
    const found = value ? /<?([^<>\s,;]+@[^<>\s,;]+)>?/.exec(value) : null
    if (!found) return null
    const name = value!.slice(0, value!.indexOf(found[0])).replace(/["']/g, '').trim()
    return { address: found[1]!.toLowerCase(), name }
  }
  return {
    headers,
    contentType: (first('content-type') ?? 'text/plain').toLowerCase(),
    from: address(first('from')),
    to: (first('to') ?? '').split(',').flatMap((part) => address(part) ?? []),
    cc: [],
    replyTo: address(first('reply-to')),
    subject: first('subject') ?? '',
    messageId: messageIds(first('message-id'))[0] ?? null,
    inReplyTo: messageIds(first('in-reply-to')),
    references: messageIds(first('references')),
    date: first('date'),
    text: '',
    attachments: [],
    notes: ['the message could not be read in time: only its headers were kept'],
  }
}
