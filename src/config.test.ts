import { describe, expect, it } from 'vitest'
import { ADAPTERS } from '../adapters/registry.js'
import { databaseFrom, databasePathFrom, loadConfig } from './config.js'
import { ConfigError } from './contracts/errors.js'
import { ByteSize } from './kit/byte-size.js'

describe('loadConfig', () => {
  it('uses the embedded defaults', () => {
    const config = loadConfig({}, ADAPTERS)
    expect(config).toMatchObject({
      port: 3000,
      databasePath: 'data/centralita.db',
      rulesDir: 'rules',
      adminToken: undefined,
      limits: { webhookBody: 1024 * 1024, mimeBody: 25 * 1024 * 1024 },
    })
  })

  it('stops with every bad variable named', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', CHATWOOT_BASE_URL: 'not a url', LOG_LEVEL: 'loud' }, ADAPTERS)
    expect(attempt).toThrow(ConfigError)
    try {
      attempt()
    } catch (err) {
      const message = (err as Error).message
      expect(message).toContain('PORT:')
      expect(message).toContain('CHATWOOT_BASE_URL:')
      expect(message).toContain('LOG_LEVEL:')
    }
  })

  it('runs two triage lanes on PostgreSQL when the pool has room for them, and says when not', () => {
    expect(loadConfig({}, ADAPTERS).triageLanes).toBe(2)
    expect(loadConfig({ DATABASE_POOL_SIZE: '4' }, ADAPTERS).triageLanes).toBe(1)
    expect(loadConfig({ DATABASE_POOL_SIZE: '20', TRIAGE_LANES: '4' }, ADAPTERS).triageLanes).toBe(
      4,
    )
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '6', TRIAGE_LANES: '3' }, ADAPTERS)).toThrow(
      /TRIAGE_LANES: at most \(DATABASE_POOL_SIZE - 2\) \/ 2 \(2\)/,
    )
  })

  it('treats blank variables as unset', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: ' ' }, ADAPTERS).port).toBe(3000)
  })

  it('disables a channel whose secret is missing, saying which variable to set', () => {
    const config = loadConfig({}, ADAPTERS)
    expect(config.channels.get('chatwoot')?.inbound).toEqual({
      enabled: false,
      reason: expect.stringContaining('CHATWOOT_WEBHOOK_SECRET'),
    })
    const enabled = loadConfig({ CHATWOOT_WEBHOOK_SECRET: 'a-long-secret' }, ADAPTERS)
    expect(enabled.channels.get('chatwoot')?.inbound).toEqual({ enabled: true })
  })

  it('refuses an admin token too short to be a secret', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' }, ADAPTERS)).toThrow(
      /ADMIN_TOKEN: must be at least 16/,
    )
  })
})

describe('databasePathFrom', () => {
  it('reads file URLs, bare paths and memory', () => {
    expect(databasePathFrom('file:data/x.db')).toBe('data/x.db')
    expect(databasePathFrom('/var/lib/c.db')).toBe('/var/lib/c.db')
    expect(databasePathFrom(':memory:')).toBe(':memory:')
  })

  it('reads PostgreSQL URLs as PostgreSQL, not as a file', () => {
    for (const url of ['postgres://u:p@db:5432/c', 'postgresql://db/c'])
      expect(databaseFrom(url)).toEqual({ engine: 'postgres', url })
    expect(databasePathFrom('postgres://db/c')).toBe('')
    expect(databaseFrom('file:data/x.db')).toEqual({ engine: 'sqlite', path: 'data/x.db' })
  })
})

describe('ByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['512kb', 512 * 1024],
    ['1mb', 1024 * 1024],
    ['25 MiB', 25 * 1024 * 1024],
  ])('%s → %d', (input, expected) => {
    expect(ByteSize.parse(input)).toBe(expected)
  })
})
