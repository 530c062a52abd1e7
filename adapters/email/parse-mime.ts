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
}

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

export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
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

/** Parses raw MIME with postal-mime; throws when the bytes are not an email message. */
export async function parseMime(raw: Buffer): Promise<ParsedMail> {
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
  const text = mail.text?.trim()
    ? flowed.flowed
      ? unflow(mail.text, flowed.delSp)
      : mail.text
    : mail.html
      ? htmlToText(mail.html)
      : ''
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
  }
}
