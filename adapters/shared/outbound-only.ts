import type { ParseResult, VerifyResult } from '../../src/contracts/channel.js'

/** The inbound half of a channel that only sends: no webhook, nothing accepted. */
export const noInbound = {
  body: 'json' as const,
  outboundOnly: true as const,
  checkHead: (): VerifyResult => ({ ok: false, reason: 'this channel only sends' }),
  verify: (): VerifyResult => ({ ok: false, reason: 'this channel only sends' }),
  parse: (): ParseResult => ({ kind: 'ignored', reason: 'this channel only sends' }),
}
