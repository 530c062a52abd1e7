import { describe, expect, it } from 'vitest'
import { contacts, triageDecisions } from '../../src/store/schema.js'
import { startSmtpSink } from '../fakes/smtp-sink.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { listeningHubs, settled } from '../helpers/hub.js'
import { waitFor } from '../helpers/wait.js'

// Security review, low: the Tawk.to email field was not validated, so "a@x.cl,
// victim@y.example" mailed both.

const hubs = listeningHubs({ TAWK_WEBHOOK_SECRET: SECRETS.tawk })

describe('recipients', () => {
  it('mails a Tawk.to visitor only at one valid address, never a list', async () => {
    const sink = await startSmtpSink()
    try {
      const { t, base } = await hubs.start({
        SMTP_URL: sink.url,
        EMAIL_FROM: 'Soporte <soporte@tienda.example>',
      })
      const send = deliver(base)
      await send.tawk(
        payloads.tawkTicket('t-1', 'Horario', '¿Cuál es el horario de atención?', {
          name: 'Eve',
          email: 'a@x.cl, victim@y.example',
        }),
        'ev-1',
      )
      await waitFor(() => t.hub.db.select().from(triageDecisions).all().length === 1, {
        what: 'the decision',
      })
      await settled(t.hub)
      expect(sink.received).toEqual([])
      expect(t.hub.db.select().from(contacts).get()!.email).toBeNull()
      // A single address is answered as before.
      await send.tawk(
        payloads.tawkTicket('t-2', 'Horario', '¿Cuál es el horario de atención?', {
          name: 'Ana',
          email: 'ana@example.cl',
        }),
        'ev-2',
      )
      await waitFor(() => sink.to('ana@example.cl').length === 1, { what: 'the answer' })
    } finally {
      await sink.close()
    }
  })
})
