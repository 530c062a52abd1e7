import type { ParsedMail } from './parse-mime.js'

const MACHINE_SENDERS =
  /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|noreply-\w+|bounces?|auto-?reply|notifications?)([+.-].*)?@/i
const MACHINE_NAMES = /^(mail delivery (subsystem|system)|mailer-daemon|postmaster)$/i

/**
 * Why a message was sent by a machine, or null when a person wrote it. Such mail is stored and
 * routed, but never answered (RFC 3834 §2; see shared/reference/channels.md §4.1).
 */
export function automaticReason(mail: ParsedMail): string | null {
  const header = (name: string) => mail.headers.get(name)?.[0]?.trim()
  const autoSubmitted = header('auto-submitted')
  if (autoSubmitted && autoSubmitted.toLowerCase() !== 'no')
    return `Auto-Submitted: ${autoSubmitted}`
  if (mail.headers.has('x-autoreply') && header('x-autoreply')?.toLowerCase() !== 'no')
    return 'X-Autoreply'
  if (mail.headers.has('x-autorespond')) return 'X-Autorespond'
  const precedence = header('precedence')?.toLowerCase()
  if (precedence && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence))
    return `Precedence: ${precedence}`
  if (mail.headers.has('list-id') || mail.headers.has('list-unsubscribe'))
    return 'mailing list (List-*)'
  if (mail.contentType.startsWith('multipart/report')) return 'delivery report (multipart/report)'
  if (mail.headers.has('x-failed-recipients')) return 'bounce (X-Failed-Recipients)'
  const returnPath = header('return-path')
  if (returnPath === '<>') return 'null return path'
  if (!mail.from) return 'no sender'
  if (MACHINE_SENDERS.test(mail.from.address))
    return `machine sender ${mail.from.address.split('@')[0]}`
  if (MACHINE_NAMES.test(mail.from.name.trim())) return `machine sender "${mail.from.name}"`
  return null
}
