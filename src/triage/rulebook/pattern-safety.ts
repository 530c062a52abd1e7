import { checkSync } from 'recheck'

/**
 * Why a regular expression could take too long on untrusted text, or null when it cannot.
 * recheck's automaton checker proves a pattern free of super-linear backtracking, or gives an
 * attack string: an exponential one is refused outright; a polynomial one is refused when its
 * attack, as long as the longest text the pattern ever reads (`limit`), takes over 100 ms.
 */
export function patternDanger(source: string, flags: string, limit: number): string | null {
  const known = verdicts.get(`${flags}/${limit}/${source}`)
  if (known !== undefined) return known
  const verdict = judge(source, flags.replace('g', ''), limit)
  verdicts.set(`${flags}/${limit}/${source}`, verdict)
  return verdict
}

/**
 * Verdicts for the process: a reloaded rulebook re-checks only patterns it has not seen. Kept
 * on the global object so that reloading this module (a test runner's module isolation)
 * does not pay recheck's first, slow run again.
 */
const VERDICTS = Symbol.for('centralita.patternVerdicts')
const shared = globalThis as { [VERDICTS]?: Map<string, string | null> }
shared[VERDICTS] ??= new Map()
const verdicts = shared[VERDICTS]

function judge(source: string, flags: string, limit: number): string | null {
  const result = checkSync(source, flags, { checker: 'automaton', timeout: 5000 })
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
