import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { PatternQuestion } from './pattern-verdict.js'

/**
 * Why each of `patterns` could take too long on untrusted text, or null for each that cannot
 * (`pattern-verdict.ts`). The check runs in a child process (`pattern-check-process.ts`), so
 * the hub never loads recheck; verdicts are kept for the process, so a reloaded rulebook only
 * checks patterns it has not seen.
 */
export function patternDangers(patterns: readonly PatternQuestion[]): (string | null)[] {
  const keyOf = (p: PatternQuestion) => `${p.flags}/${p.limit}/${p.source}`
  const unknown = patterns.filter((p) => !verdicts.has(keyOf(p)))
  if (unknown.length > 0) {
    const answers = checkInChild(unknown)
    unknown.forEach((p, i) => {
      verdicts.set(keyOf(p), answers[i] ?? null)
    })
  }
  return patterns.map((p) => verdicts.get(keyOf(p)) ?? null)
}

/**
 * Verdicts for the process, kept on the global object so that loading this module again (a
 * test runner's module isolation) does not check again.
 */
const VERDICTS = Symbol.for('centralita.patternVerdicts')
const shared = globalThis as { [VERDICTS]?: Map<string, string | null> }
shared[VERDICTS] ??= new Map()
const verdicts = shared[VERDICTS]

function checkInChild(patterns: readonly PatternQuestion[]): (string | null)[] {
  // The built hub runs the compiled script; from the TypeScript sources, tsx runs it.
  const fromSource = import.meta.url.endsWith('.ts')
  const script = fileURLToPath(
    new URL(`./pattern-check-process.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  )
  const child = spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), script], {
    input: JSON.stringify(patterns),
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (child.status !== 0) {
    const why = child.error?.message ?? child.stderr.trim().split('\n').at(-1) ?? 'no answer'
    return patterns.map(() => `could not be checked for slow matching (${why})`)
  }
  return JSON.parse(child.stdout) as (string | null)[]
}
