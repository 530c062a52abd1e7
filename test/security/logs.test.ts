import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ADAPTERS } from '../../adapters/registry.js'
import { loadConfig } from '../../src/config.js'
import { createHub } from '../../src/hub.js'
import { createLogger } from '../../src/kit/logger.js'
import { outbox } from '../../src/store/schema.js'
import { startSmtpSink } from '../fakes/smtp-sink.js'
import { RULES_DIR, tempDir } from '../helpers/hub.js'
import { plainMail } from '../helpers/mail.js'
import { waitFor } from '../helpers/wait.js'

// Security review, low: SMTP errors were logged as strings containing the recipient.

describe('the log never carries a customer address', () => {
  it('scrubs the recipient from an SMTP error in every line', async () => {
    const sink = await startSmtpSink()
    const temp = tempDir()
    const lines: string[] = []
    const logger = createLogger(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(chunk.toString())
          done()
        },
      }),
    )
    const config = loadConfig(
      {
        DATABASE_URL: `file:${join(temp.dir, 'centralita.db')}`,
        RULES_DIR,
        PORT: '0',
        HOST: '127.0.0.1',
        EMAIL_WEBHOOK_SECRET: 'email-webhook-secret-0123456789',
        SMTP_URL: sink.url,
        EMAIL_FROM: 'Soporte <soporte@tienda.example>',
      },
      ADAPTERS,
    )
    const hub = createHub({ config, logger })
    try {
      const { port } = await hub.listen()
      sink.fail(550, 1, '5.1.1 <{to}>: Recipient address rejected; call +56 9 8765 4321')
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/email`, {
        method: 'POST',
        headers: {
          'content-type': 'message/rfc822',
          authorization: 'Bearer email-webhook-secret-0123456789',
        },
        body: plainMail({
          from: 'Ana Pérez <ana.perez@cliente.example>',
          subject: 'Horario',
          messageId: 'horario-1@cliente.example',
          body: '¿Cuál es el horario de atención?',
        }),
      })
      expect(res.status).toBe(200)
      await waitFor(
        () =>
          hub.db
            .select()
            .from(outbox)
            .all()
            .some((e) => e.status === 'dead'),
        {
          what: 'the refused answer dead-lettered',
        },
      )
      const dead = lines.find((l) => l.includes('effect dead-lettered'))
      expect(dead).toBeDefined()
      expect(dead).toContain('Recipient address rejected')
      const all = lines.join('')
      expect(all).not.toContain('ana.perez@cliente.example')
      expect(all).not.toContain('8765 4321')
    } finally {
      await hub.stop()
      await sink.close()
      temp.cleanup()
    }
  })
})
