import { ADAPTERS, adapterById } from '../../adapters/registry.js'
import { loadConfig } from '../config.js'
import { createHub } from '../hub.js'
import { createLogger } from '../kit/logger.js'
import { openStore } from '../store/open-store.js'

/** `centralita serve`: run the hub until SIGTERM or SIGINT, then shut down gracefully. */
export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env, ADAPTERS)
  const logger = createLogger({ level: config.logLevel })
  for (const [channel, settings] of config.channels) {
    if (adapterById.get(channel)?.outboundOnly) {
      if (settings.config) logger.info({ channel }, 'notifications enabled')
    } else if (settings.inbound.enabled) logger.info({ channel }, 'channel enabled')
    else logger.warn({ channel, reason: settings.inbound.reason }, 'channel disabled')
  }
  const store = await openStore(config.database, { poolSize: config.databasePoolSize })
  const hub = createHub({ config, logger, textAnalysisThread: true, store })
  const address = await hub.listen()
  logger.info(
    {
      port: address.port,
      host: address.address,
      database: config.database.engine === 'sqlite' ? config.databasePath : 'postgres',
      rulebook: hub.rulebook().version,
    },
    'centralita listening',
  )
  let signalled = false
  const shutdown = (signal: string) => {
    if (signalled) return
    signalled = true
    logger.info({ signal }, 'shutting down')
    hub.stop().then(
      () => {
        logger.info('stopped')
        process.exit(0)
      },
      (err) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}
