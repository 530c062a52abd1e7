import type { Reporter, TestModule } from 'vitest/node'
import { SERVICES, type ServiceId, servicePath, serviceTag } from './services.js'

/**
 * Ends `npm test` with which suites that need a system service ran and which were skipped (and
 * what to install). In CI a skipped one fails the run.
 */
export default class ServicesReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const ids = Object.keys(SERVICES) as ServiceId[]
    const seen = new Map<ServiceId, { ran: Set<string>; skipped: Set<string> }>()
    for (const module of modules) {
      for (const suite of module.children.allSuites()) {
        const id = ids.find((s) => suite.name.endsWith(serviceTag(s)))
        if (!id) continue
        const entry = seen.get(id) ?? { ran: new Set(), skipped: new Set() }
        const state = suite.state()
        ;(state === 'skipped' ? entry.skipped : entry.ran).add(module.relativeModuleId)
        seen.set(id, entry)
      }
    }
    if (seen.size === 0) return
    const lines = ['', 'Suites that need a system service:']
    let skippedAny = false
    for (const [id, entry] of seen) {
      const service = SERVICES[id]
      if (entry.ran.size > 0)
        lines.push(`  ran      ${id} (${service.what}): ${[...entry.ran].join(', ')}`)
      if (entry.skipped.size > 0) {
        skippedAny = true
        const why = servicePath(id)
          ? 'skipped'
          : `not installed: apt-get install ${service.package}`
        lines.push(`  SKIPPED  ${id} (${why}): ${[...entry.skipped].join(', ')}`)
      }
    }
    if (skippedAny && process.env.CI) {
      lines.push('CI needs every system service: failing the run.')
      process.exitCode = 1
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  }
}
