import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { lines, logger: createLogger({ level: 'info' }, stream) }
}

describe('logger', () => {
  it('writes JSON with ids and redacts secrets, addresses and message bodies', () => {
    const { lines, logger } = capture()
    logger.info(
      {
        messageId: 12,
        text: 'Los voy a demandar',
        contact: { email: 'ana@example.com', phone: '+56 9 1234 5678' },
        req: { headers: { authorization: 'Bearer admin-token-123456' } },
        channel: { secret: 'webhook-secret', token: 'api-token' },
      },
      'message triaged',
    )
    const entry = JSON.parse(lines[0]!)
    expect(entry).toMatchObject({ msg: 'message triaged', messageId: 12, text: '[redacted]' })
    const raw = lines[0]!
    for (const secret of [
      'demandar',
      'ana@example.com',
      '1234 5678',
      'admin-token',
      'webhook-secret',
      'api-token',
    ]) {
      expect(raw).not.toContain(secret)
    }
  })

  it('drops the request and response an HTTP client error carries', () => {
    const { lines, logger } = capture()
    const err = Object.assign(new Error('HTTP 500'), {
      config: { headers: { api_access_token: 'cw-secret-token' } },
      response: { data: { content: 'customer text' } },
    })
    logger.error({ err }, 'effect failed')
    expect(lines[0]).toContain('HTTP 500')
    expect(lines[0]).not.toContain('cw-secret-token')
    expect(lines[0]).not.toContain('customer text')
  })
})
