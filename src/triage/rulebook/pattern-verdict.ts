import type { checkSync } from 'recheck'

/** A regular expression to check, and the longest text it ever reads. */
export type PatternQuestion = { source: string; flags: string; limit: number }

/**
 * Why a regular expression could take too long on untrusted text, or null when it cannot.
 * recheck's automaton checker proves a pattern free of super-linear backtracking, or gives an
 * attack string: an exponential one is refused outright; a polynomial one is refused when its
 * attack, as long as the longest text the pattern ever reads, takes over 100 ms.
 */
export function verdictOf(question: PatternQuestion, check: typeof checkSync): string | null {
  const { source, limit } = question
  const flags = question.flags.replace('g', '')
  const result = check(source, flags, { checker: 'automaton', timeout: 5000 })
  if (result.status === 'safe') return null
  if (result.status === 'unknown')
    return `could not be checked for slow matching (${result.error.kind})`
  if (result.complexity.type === 'exponential') {
    return `can take exponential time (backtracking), e.g. on "${result.attack.string.slice(0, 40)}…"`
  }
  const { pumps, suffix } = result.attack
  const fixed = pumps.reduce((n, p) => n + p.prefix.length, 0) + suffix.length
  const per = pumps.reduce((n, p) => n + p.pump.length, 0)
  const times = Math.max(1, Math.floor((limit - fixed) / Math.max(1, per)))
  const attack = pumps.map((p) => p.prefix + p.pump.repeat(times)).join('') + suffix
  const started = performance.now()
  new RegExp(source, flags).test(attack)
  const took = performance.now() - started
  return took > 100
    ? `takes ${Math.round(took)} ms on ${attack.length} characters (polynomial backtracking)`
    : null
}
