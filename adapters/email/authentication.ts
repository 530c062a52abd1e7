import type { ParsedMail } from './parse-mime.js'

/** What the receiving server found of SPF, DKIM and DMARC (RFC 8601), as far as it said. */
export type Authentication = { spf?: string; dkim?: string; dmarc?: string }

const METHODS = ['spf', 'dkim', 'dmarc'] as const

/**
 * The results of the topmost Authentication-Results header: the one the server that handed
 * the mail to the hub added (headers are prepended as mail travels, so lower ones were
 * written earlier, or by the sender). Null when there is none.
 */
export function authenticationOf(mail: Pick<ParsedMail, 'headers'>): Authentication | null {
  const header = mail.headers.get('authentication-results')?.[0]
  if (!header) return null
  const out: Authentication = {}
  // "mx.example.cl; spf=pass smtp.mailfrom=…; dkim=fail (bad signature) header.d=…"
  for (const method of METHODS) {
    const match = new RegExp(`(?:^|[;\\s])${method}\\s*=\\s*([a-z]+)`, 'i').exec(
      header.slice(0, 4000),
    )
    if (match) out[method] = match[1]!.toLowerCase()
  }
  return out
}

/** Why the receiving server's results refuse the mail as a person's answer, or null. */
export function authenticationFailure(auth: Authentication | null | undefined): string | null {
  if (!auth) return null
  if (auth.dmarc === 'fail') return 'DMARC failed'
  if (auth.dkim === 'fail') return 'DKIM failed'
  if (auth.spf === 'fail' || auth.spf === 'softfail') return `SPF ${auth.spf}`
  return null
}

/** Whether the sender's domain vouched for the mail (DMARC, or else DKIM, passed). */
export function authenticated(auth: Authentication | null | undefined): boolean {
  return auth?.dmarc === 'pass' || (auth?.dmarc === undefined && auth?.dkim === 'pass')
}
