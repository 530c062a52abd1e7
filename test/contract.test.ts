import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ADAPTERS } from '../adapters/registry.js'
import { loadConfig } from '../src/config.js'
import { NormalizedMessage, sha256Hex } from '../src/contracts/message.js'

// Every registered adapter parses every one of its fixtures: none may come out invalid, and
// every message it produces satisfies the NormalizedMessage schema.
const config = loadConfig({}, ADAPTERS)

describe.each(ADAPTERS.filter((a) => !a.outboundOnly).map((a) => [a.id, a] as const))(
  'adapter %s',
  (id, adapter) => {
    const dir = join(import.meta.dirname, '../adapters', id, 'fixtures')
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(json|eml)$/.test(f)) : []

    it('has fixtures', () => {
      expect(files.length).toBeGreaterThan(0)
    })

    it.each(files)('parses %s', async (file) => {
      const rawBody = readFileSync(join(dir, file))
      const result = await adapter.parse(
        { method: 'POST', rawBody, rawHash: sha256Hex(rawBody), headers: {}, query: {} },
        config.channels.get(id)!.config,
        new Date('2026-11-20T10:00:05Z'),
      )
      expect(result.kind).not.toBe('invalid')
      if (result.kind === 'accepted') {
        for (const message of result.messages)
          expect(() => NormalizedMessage.parse(message)).not.toThrow()
      }
    })
  },
)
