import type { ChannelEntry, ReplyTools } from '../contracts/channel.js'

/** Ways to reach customers besides their own channel, from what the configured channels offer. */
export function replyTools(channels: ReadonlyMap<string, ChannelEntry>): ReplyTools {
  const tools: ReplyTools = { email: null }
  for (const { adapter, settings } of channels.values()) {
    const offered = adapter.replyTools?.(settings.config)
    if (offered?.email) tools.email ??= offered.email
  }
  return tools
}
