import { expect } from 'vitest'

/** A plain-text message as a mail client would send it, addressed to the hub by default. */
export function plainMail(options: {
  from: string
  subject: string
  body: string
  messageId: string
  to?: string
  date?: string
  inReplyTo?: string
  references?: string[]
  headers?: Record<string, string>
}): Buffer {
  const lines = [
    `From: ${options.from}`,
    `To: ${options.to ?? 'Soporte Tienda <soporte@tienda.example>'}`,
    `Subject: ${options.subject}`,
    `Date: ${options.date ?? 'Wed, 18 Nov 2026 11:58:00 -0300'}`,
    `Message-ID: <${options.messageId}>`,
    ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}>`] : []),
    ...(options.references
      ? [`References: ${options.references.map((r) => `<${r}>`).join(' ')}`]
      : []),
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    options.body,
  ]
  return Buffer.from(lines.join('\r\n'))
}

/** Posts a raw message to the hub's email webhook, as a mail relay would; expects it taken. */
export async function postRawMail(base: string, token: string, raw: Buffer): Promise<void> {
  const res = await fetch(`${base}/webhooks/email`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}` },
    body: raw,
  })
  expect(res.status).toBe(200)
}
