import type { Config } from './config.js'
import type { AnyAdapter, ChannelEntry, Source, SourceDeps } from './contracts/channel.js'
import type { EffectExecutor } from './contracts/effect.js'
import type { Clock } from './kit/clock.js'
import type { Logger } from './kit/logger.js'
import { hubSecret, outboundStore, sourceState } from './store/outbound-store.js'
import type { Sql } from './store/sql.js'
import type { Rulebook } from './triage/rulebook/compile.js'

/**
 * The channels the configuration turns on, each with what its adapter may use of the hub (the
 * outbound store, its small state, its secrets, a logger), and the effect executors they bring.
 */
export function composeChannels(options: {
  adapters: readonly AnyAdapter[]
  config: Config
  sql: Sql
  clock: Clock
  logger: Logger
}) {
  const { adapters, config, sql, clock, logger } = options
  const store = outboundStore(sql, clock)
  const state = sourceState(sql, clock)
  const secrets = new Map<string, Promise<Buffer>>()
  const secret = (name: string) => {
    let value = secrets.get(name)
    if (!value) {
      value = hubSecret(sql, clock, name)
      secrets.set(name, value)
    }
    return value
  }
  const channels = new Map<string, ChannelEntry>()
  const executors = new Map<string, EffectExecutor>()
  for (const adapter of adapters) {
    const settings = config.channels.get(adapter.id)
    if (!settings) continue
    channels.set(adapter.id, { adapter, settings })
    const deps = {
      logger: logger.child({ channel: adapter.id }),
      store,
      now: () => clock.now(),
      state,
      secret,
      timeoutMs: config.outboundTimeoutMs,
    }
    for (const [kind, executor] of adapter.executors?.(settings.config, deps) ?? []) {
      executors.set(kind, executor)
    }
  }
  /** `state` is the channels' small durable state, which their inbound sources keep too. */
  return { channels, executors, state }
}

/** The channels' inbound sources that are not webhooks (SMTP receiver, IMAP poller). */
export function composeSources(options: {
  channels: ReadonlyMap<string, ChannelEntry>
  state: SourceDeps['state']
  logger: Logger
  rulebook: () => Rulebook
  busy: () => boolean
  now: () => Date
  accept: (
    channel: string,
    delivery: Parameters<SourceDeps['accept']>[0],
  ) => ReturnType<SourceDeps['accept']>
}): Source[] {
  const sources: Source[] = []
  for (const [id, { adapter, settings }] of options.channels) {
    const found = adapter.sources?.(settings.config, {
      logger: options.logger.child({ channel: id }),
      accept: (delivery) => options.accept(id, delivery),
      state: options.state,
      mailboxes: () => ownMailboxes(options.channels, options.rulebook()),
      busy: options.busy,
      now: options.now,
    })
    sources.push(...(found ?? []))
  }
  return sources
}

/** Addresses the hub receives mail for: the channels' own and the queues' mailboxes. */
function ownMailboxes(channels: ReadonlyMap<string, ChannelEntry>, rulebook: Rulebook): string[] {
  const own = [...channels.values()].flatMap(
    ({ adapter, settings }) => adapter.mailboxes?.(settings.config) ?? [],
  )
  const queues = Object.values(rulebook.queues).flatMap((q) => (q.email ? [q.email] : []))
  return [...own, ...queues].map((a) => a.toLowerCase())
}
