import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import { purgeExpired, purgeSessions, type RetentionPolicy } from '../store/retention.js'
import type { Sql } from '../store/sql.js'

/**
 * Housekeeping, hourly: delivery ids past the dedupe horizon, old finished jobs and expired
 * console sessions are deleted; messages, decisions, cases and the outbox are kept.
 */
export function startHousekeeping(deps: {
  sql: Sql
  clock: Clock
  logger: Logger
  retention: RetentionPolicy
}): Loop {
  return startLoop({
    name: 'retention',
    logger: deps.logger,
    pollMs: 3_600_000,
    runOnce: async (): Promise<'idle'> => {
      const at = deps.clock.now().getTime()
      const purged = {
        ...(await purgeExpired(deps.sql, at, deps.retention)),
        sessions: await purgeSessions(deps.sql, at),
      }
      if (purged.deliveries + purged.jobs + purged.sessions > 0)
        deps.logger.info(purged, 'expired rows deleted')
      return 'idle'
    },
  })
}
