import { type EmailConfig, emailTool } from '../../adapters/email/index.js'
import type { ReplyTools } from '../contracts/channel.js'
import type { ChannelEntry } from '../ingest/ingest.js'

/** Ways to reach customers besides their own channel, from the configured channels. */
export function replyTools(channels: ReadonlyMap<string, ChannelEntry>): ReplyTools {
  const email = channels.get('email')?.settings.config as EmailConfig | undefined
  return { email: email ? emailTool(email) : null }
}
