import type { IntentId, Level, Priority } from './rulebook/schema.js'
import type { DecisionSignal, Explanation } from './types.js'

export function ruleSetting(routing: Explanation['routing'], field: string): string {
  return routing.find((r) => r.set.some((s) => s.startsWith(`${field}=`)))?.rule ?? '?'
}

export const round = (value: number) => Math.round(value * 1000) / 1000

// The two helpers below build parts of every explanation; they run on every message, so they
// loop instead of spreading, mapping and sorting whole score maps.

/** Rule scores as a plain object, rounded, in the order the rules found them. */
export function roundedScores(
  scores: ReadonlyMap<string, number>,
): Partial<Record<IntentId, number>> {
  const out: Partial<Record<string, number>> = {}
  for (const [target, score] of scores) out[target] = round(score)
  return out
}

/** The three best classifier scores, rounded, best first; ties keep the model's order. */
export function bestThree(
  scores: ReadonlyMap<IntentId, number>,
): { intent: IntentId; score: number }[] {
  const top: { intent: IntentId; score: number }[] = []
  for (const [intent, raw] of scores) {
    const score = round(raw)
    let at = top.length
    while (at > 0 && top[at - 1]!.score < score) at--
    if (at >= 3) continue
    top.splice(at, 0, { intent, score })
    if (top.length > 3) top.pop()
  }
  return top
}

export function summarize(
  intent: IntentId,
  confidence: number,
  signals: readonly DecisionSignal[],
  queue: string | null,
  level: Level | null,
  priority: Priority,
  needsHuman: boolean,
): string {
  const parts = [`${intent} (${Math.round(confidence * 100)}%)`]
  if (signals.length > 0) parts.push(`signals: ${signals.join(', ')}`)
  parts.push(`priority ${priority}`)
  if (level) parts.push(level)
  if (queue) parts.push(`queue ${queue}`)
  if (needsHuman) parts.push('needs a person')
  return parts.join(' · ')
}
