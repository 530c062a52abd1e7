import type { AuthorRole } from '../contracts/message.js'
import type { ActId, Condition, IntentId } from './rulebook/schema.js'
import type { DecisionSignal } from './types.js'

const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value]

export type RoutingFacts = {
  intent: IntentId
  signals: ReadonlySet<DecisionSignal>
  channel: string | null
  role: AuthorRole
  inHours: boolean | null
  language: 'es' | 'en'
  amount: number | null
  repeatComplainer: boolean
  improvementPlan: boolean
  needsHuman: boolean
  acts: ReadonlySet<ActId>
}

export function conditionHolds(when: Condition, facts: RoutingFacts): boolean {
  const intents = asList(when.intent)
  if (intents && !intents.includes(facts.intent)) return false
  const signals = asList(when.signal)
  if (signals && !signals.some((s) => facts.signals.has(s))) return false
  const channels = asList(when.channel)
  if (channels && (facts.channel === null || !channels.includes(facts.channel))) return false
  const roles = asList(when.role)
  if (roles && !roles.includes(facts.role)) return false
  if (when.in_hours !== undefined && facts.inHours !== when.in_hours) return false
  if (when.language !== undefined && facts.language !== when.language) return false
  if (
    when.amount_over !== undefined &&
    !(facts.amount !== null && facts.amount > when.amount_over)
  ) {
    return false
  }
  if (when.repeat_complainer !== undefined && facts.repeatComplainer !== when.repeat_complainer) {
    return false
  }
  if (when.improvement_plan !== undefined && facts.improvementPlan !== when.improvement_plan) {
    return false
  }
  if (when.needs_human !== undefined && facts.needsHuman !== when.needs_human) return false
  const acts = asList(when.act)
  if (acts && !acts.some((a) => facts.acts.has(a))) return false
  return true
}
