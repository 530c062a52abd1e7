import type { Config } from '../config.js'
import type { Source } from '../contracts/channel.js'
import type { Loop } from '../kit/loop.js'
import type { Sql } from '../store/sql.js'

/**
 * What `/readyz` answers: ready when the database answers and the loops run. Inbound sources
 * (mailboxes, sessions) are reported, not required: webhooks keep flowing without them. On
 * PostgreSQL it also says which instance this is among several, and its triage lanes.
 */
export async function readiness(deps: {
  sql: Sql
  config: Config
  loops: Record<string, Loop>
  sources: readonly Source[]
}): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {}
  try {
    await deps.sql.get('select 1 as one')
    checks.database = 'ok'
  } catch {
    checks.database = 'unavailable'
  }
  for (const [name, loop] of Object.entries(deps.loops))
    checks[name] = loop.running ? 'ok' : 'stopped'
  const ready = Object.values(checks).every((v) => v === 'ok')
  for (const source of deps.sources) checks[`source.${source.name}`] = source.health()
  const { config } = deps
  if (config.database.engine === 'postgres') {
    checks.engine = 'postgres'
    checks.instance = config.instanceId
    checks.triage_lanes = String(config.triageLanes)
  }
  return { ready, checks }
}
