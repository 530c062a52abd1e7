import type { AnyAdapter } from '../src/contracts/channel.js'
import { chatwoot } from './chatwoot/index.js'
import { email } from './email/index.js'
import { internal } from './internal/index.js'
import { push } from './push/index.js'
import { sms } from './sms/index.js'
import { tawkto } from './tawkto/index.js'
import { whatsapp } from './whatsapp/index.js'

/** Every channel the hub knows. Adding a channel: its folder, and one line here. */
export const ADAPTERS: readonly AnyAdapter[] = [
  chatwoot,
  tawkto,
  email,
  whatsapp,
  internal,
  push,
  sms,
]

export const adapterById: ReadonlyMap<string, AnyAdapter> = new Map(ADAPTERS.map((a) => [a.id, a]))
