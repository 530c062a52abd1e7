import { convert } from 'html-to-text'
import PostalMime from 'postal-mime'
import { keepFlowedLines, unflow } from './format-flowed.js'

export type Address = { address: string; name: string }

/** What the hub needs from a MIME message. */
export type ParsedMail = {
  /** Lower-cased header names → their values, in order. */
  headers: Map<string, string[]>
  contentType: string
  from: Address | null
  to: Address[]
  cc: Address[]
  replyTo: Address | null
  subject: string
  /** Message-IDs without angle brackets. */
  messageId: string | null
  inReplyTo: string[]
  references: string[]
  date: string | null
  /** The text body (turned from HTML when the message has no text part). */
  text: string
  attachments: { name?: string; contentType?: string; size: number }[]
  /** What was cut or left unread to keep reading the mail bounded (said with the message). */
  notes: string[]
}

/**
 * How an HTML-only body is read: `convert` turns it into text (bounded: its first
 * `HTML_LIMIT` characters, nesting and children capped); `strip` only drops the markup of its
 * first `STRIP_LIMIT` characters, for a body whose conversion took too long.
 */
export type HtmlMode = 'convert' | 'strip'

/** Characters of HTML converted to text; a longer body is cut first (and the cut said). */
export const HTML_LIMIT = 256 * 1024
const STRIP_LIMIT = 64 * 1024
/** Characters of text kept: as much as a normalized message holds. */
export const TEXT_LIMIT = 200_000

/** The `<id>` tokens of a header (In-Reply-To and References may hold several). */
export function messageIds(value: string | undefined | null): string[] {
  if (!value) return []
  const ids = [...value.matchAll(/<([^<>\s]{1,900})>/g)].map((m) => m[1]!)
  if (ids.length > 0) return ids
  const bare = value.trim()
  return bare && !/\s/.test(bare) ? [bare] : []
}

const address = (a: { address?: string; name?: string } | undefined | null): Address | null =>
  a?.address ? { address: a.address.toLowerCase(), name: a.name ?? '' } : null

/** HTML as text, bounded: a body past `HTML_LIMIT` is cut before it is parsed. */
export function htmlToText(html: string): string {
  return convert(html.length > HTML_LIMIT ? html.slice(0, HTML_LIMIT) : html, {
    wordwrap: false,
    // Deeply nested or very wide markup is cut off, not walked (a mail of nested <div>s).
    limits: { maxDepth: 64, maxChildNodes: 5000, maxInputLength: HTML_LIMIT, ellipsis: '…' },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'script', format: 'skip' },
      // Quoted replies in HTML mail: keep the ">" marks so the reply stripper sees them.
      { selector: 'blockquote', options: { trimEmptyLines: true } },
    ],
  })
}

/** The first characters of HTML without its markup: linear, for a body too slow to convert. */
function stripTags(html: string): string {
  return html
    .slice(0, STRIP_LIMIT)
    .replace(/<(script|style)[^>]{0,200}>[^<]{0,100000}<\/\1>/gi, ' ')
    .replace(/<[^<>]{0,2000}>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim()
}

/**
 * Parses raw MIME with postal-mime; throws when the bytes are not an email message. Runs on
 * the MIME thread (`parse-pool.ts`), never on the hub's main thread.
 */
export async function parseMime(raw: Buffer, html: HtmlMode = 'convert'): Promise<ParsedMail> {
  const flowed = keepFlowedLines(raw)
  const mail = await PostalMime.parse(flowed.raw)
  const headers = new Map<string, string[]>()
  for (const { key, value } of mail.headers) {
    const list = headers.get(key.toLowerCase()) ?? []
    list.push(value)
    headers.set(key.toLowerCase(), list)
  }
  if (headers.size === 0 || (!mail.from && !headers.has('subject') && !headers.has('message-id'))) {
    throw new Error('not an email message: no headers')
  }
  const notes: string[] = []
  let text: string
  if (mail.text?.trim()) text = flowed.flowed ? unflow(mail.text, flowed.delSp) : mail.text
  else if (mail.html && html === 'strip') {
    text = stripTags(mail.html)
    notes.push(
      `the HTML body took too long to read: only its first ${STRIP_LIMIT / 1024} KB, without markup`,
    )
  } else if (mail.html) {
    if (mail.html.length > HTML_LIMIT)
      notes.push(`the HTML body was cut at ${HTML_LIMIT / 1024} KB before reading it`)
    text = htmlToText(mail.html)
  } else text = ''
  if (text.length > TEXT_LIMIT) {
    text = text.slice(0, TEXT_LIMIT)
    notes.push(`the text was cut at ${TEXT_LIMIT.toLocaleString('en')} characters`)
  }
  return {
    headers,
    contentType: (headers.get('content-type')?.[0] ?? 'text/plain').toLowerCase(),
    from: address(mail.from),
    to: (mail.to ?? []).map(address).filter((a): a is Address => a !== null),
    cc: (mail.cc ?? []).map(address).filter((a): a is Address => a !== null),
    replyTo: address(mail.replyTo?.[0]),
    subject: mail.subject ?? '',
    messageId: messageIds(mail.messageId)[0] ?? null,
    inReplyTo: messageIds(mail.inReplyTo),
    references: messageIds(mail.references),
    date: mail.date ?? null,
    text,
    attachments: mail.attachments.map((a) => ({
      ...(a.filename ? { name: a.filename } : {}),
      ...(a.mimeType ? { contentType: a.mimeType } : {}),
      size:
        typeof a.content === 'string' ? a.content.length : (a.content as ArrayBuffer).byteLength,
    })),
    notes,
  }
}
