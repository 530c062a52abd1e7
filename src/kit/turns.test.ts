import { describe, expect, it } from 'vitest'
import { turnsByKey } from './turns.js'

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('turnsByKey', () => {
  it('runs one key at a time, in order, and different keys side by side', async () => {
    const turns = turnsByKey()
    const log: string[] = []
    const job = (name: string) => async () => {
      log.push(`${name} start`)
      await tick()
      log.push(`${name} end`)
      return name
    }
    const results = await Promise.all([
      turns.run('a', job('a1')),
      turns.run('b', job('b1')),
      turns.run('a', job('a2')),
    ])
    expect(results).toEqual(['a1', 'b1', 'a2'])
    // a2 starts only after a1 ended; b1 ran beside a1.
    expect(log.indexOf('a2 start')).toBeGreaterThan(log.indexOf('a1 end'))
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'))
    expect(turns.size).toBe(0)
  })

  it('goes on after a failed turn, which fails alone', async () => {
    const turns = turnsByKey()
    const failed = turns.run('k', async () => {
      await tick()
      throw new Error('upstream said no')
    })
    const next = turns.run('k', async () => 'ran')
    await expect(failed).rejects.toThrow('upstream said no')
    await expect(next).resolves.toBe('ran')
    expect(turns.size).toBe(0)
  })
})
