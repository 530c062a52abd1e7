import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ADAPTERS } from '../../adapters/registry.js'
import { loadConfig } from '../../src/config.js'
import { loadRulebook } from '../../src/triage/rulebook/compile.js'
import { ROOT, run } from '../helpers/process.js'
import { editedRules } from '../helpers/rules.js'

// Security review, low: settings that quietly weakened the hub.

describe('INTERNAL_WEBHOOK_SECRET', () => {
  it.each([
    ['whsec_!!!!!!!!!!!!!!!!!!!!!!!!', /base64/],
    [`whsec_${Buffer.alloc(8, 7).toString('base64')}`, /fewer than 16 bytes/],
    ['short-secret', /16 characters/],
  ])('refuses %s at start, naming the variable', (secret, why) => {
    expect(() => loadConfig({ INTERNAL_WEBHOOK_SECRET: secret }, ADAPTERS)).toThrow(
      new RegExp(`INTERNAL_WEBHOOK_SECRET: .*${why.source}`),
    )
  })

  it('takes a whsec_ key of 16 bytes or more, and a long plain string', () => {
    for (const secret of [
      `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
      'a-plain-secret-of-enough-length',
    ]) {
      const config = loadConfig({ INTERNAL_WEBHOOK_SECRET: secret }, ADAPTERS)
      expect(config.channels.get('internal')!.inbound.enabled).toBe(true)
    }
  })
})

describe('rulebook patterns that backtrack', () => {
  const evil = () =>
    editedRules({
      'intents.yaml': (text) =>
        text.replace(
          /(\n {2}support:\n(?: {4}.*\n)*? {4}es:\n)/,
          `$1      patterns:\n        - ^([a-z]+ ?)+$\n`,
        ),
    })

  it('are refused by rules check, with file and line', () => {
    const rules = evil()
    try {
      const { code, stderr } = run(['rules', 'check', rules.dir])
      expect(code).toBe(1)
      expect(stderr).toMatch(
        /^intents\.yaml:\d+ intents\.support\.es\.patterns\[0\]: can take exponential time/m,
      )
    } finally {
      rules.cleanup()
    }
  })

  it('are refused when the hub loads the rulebook', () => {
    const rules = evil()
    try {
      expect(() => loadRulebook(rules.dir)).toThrow(/exponential/)
    } finally {
      rules.cleanup()
    }
  })
})

describe('the Docker image', () => {
  // Node.js release lines and the day each reaches its end of life (nodejs.org/en/about/previous-releases).
  const END_OF_LIFE: Record<number, string> = {
    18: '2025-04-30',
    20: '2026-04-30',
    22: '2027-04-30',
    24: '2028-04-30',
  }

  it('runs a Node.js line that is still supported, and that package.json allows', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    const majors = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]))
    expect(majors.length).toBe(2)
    const engines = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        engines: { node: string }
      }
    ).engines.node
    for (const major of majors) {
      expect(END_OF_LIFE[major], `node ${major}`).toBeDefined()
      expect(Date.parse(END_OF_LIFE[major]!)).toBeGreaterThan(Date.now())
      expect(engines).toMatch(new RegExp(`\\^${major}\\b`))
    }
  })
})
