import { execFileSync } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { WhatsAppConfig } from '../../adapters/whatsapp/index.js'
import type { WebMessage } from '../../adapters/whatsapp/normalize-web.js'
import type { WebClient } from '../../adapters/whatsapp/web-session.js'
import type { Config } from '../../src/config.js'
import { manualClock } from '../../src/kit/clock.js'
import { messages, triageDecisions } from '../../src/store/schema.js'
import { tempDir, testHub } from '../helpers/hub.js'
import { freePort } from '../helpers/process.js'
import { describeWithService, servicePath } from '../helpers/services.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

/** A stand-in for whatsapp-web.js's Client: the same events and methods, driven by the test. */
class FakeClient extends EventEmitter implements WebClient {
  initialized = 0
  destroyed = 0
  sent: { chatId: string; content: string; options?: { quotedMessageId?: string } }[] = []
  constructor(private readonly failInit: string | null = null) {
    super()
  }
  async initialize() {
    this.initialized++
    if (this.failInit) throw new Error(this.failInit)
  }
  async destroy() {
    this.destroyed++
  }
  async sendMessage(chatId: string, content: string, options?: { quotedMessageId?: string }) {
    this.sent.push({ chatId, content, ...(options ? { options } : {}) })
    return { id: { _serialized: `true_${chatId}_SENT${this.sent.length}` } }
  }
}

const webConfig = (config: Config) => {
  const wa = config.channels.get('whatsapp')!.config as WhatsAppConfig
  if (wa.mode !== 'web') throw new Error('not web mode')
  return wa.web
}

const message = (over: Partial<WebMessage> = {}): WebMessage => ({
  id: { _serialized: 'false_56911112222@c.us_3EB0C767D26A1D0B8E4C', fromMe: false },
  from: '56911112222@c.us',
  to: '56229876543@c.us',
  body: 'hola a q hora abren el sabado?',
  type: 'chat',
  timestamp: 1763650900,
  fromMe: false,
  isStatus: false,
  hasMedia: false,
  _data: { notifyName: 'Pedro' },
  ...over,
})

describe("WhatsApp Web mode, driven through the client's events", () => {
  let t: ReturnType<typeof testHub> | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  it('shows the QR code, becomes ready, triages messages and replies through the client', async () => {
    const clients: FakeClient[] = []
    const qrs: string[] = []
    t = testHub(
      { WHATSAPP_MODE: 'web' },
      {
        clock: manualClock('2025-11-20T15:02:00Z'),
        configure: (config) => {
          const web = webConfig(config)
          web.createClient = async () => {
            const client = new FakeClient()
            clients.push(client)
            return client
          }
          web.showQr = (qr) => qrs.push(qr)
        },
      },
    )
    await t.hub.listen()
    const source = t.hub.sources.find((s) => s.name === 'whatsapp-web')!
    const client = await waitFor(() => clients[0], { what: 'the client' })
    client.emit('qr', '2@AbCdEf==,key,other')
    expect(qrs).toEqual(['2@AbCdEf==,key,other'])
    expect(source.snapshot?.()).toMatchObject({
      state: 'waiting_for_qr_scan',
      qr: '2@AbCdEf==,key,other',
    })
    client.emit('authenticated')
    client.emit('ready')
    expect(source.health()).toBe('ok')
    expect(source.snapshot?.()).toMatchObject({ state: 'ready', qr: null })

    // Own messages, status broadcasts and groups are never triaged.
    client.emit('message', message({ id: { _serialized: 'own-1' }, fromMe: true }))
    client.emit(
      'message',
      message({ id: { _serialized: 'status-1' }, from: 'status@broadcast', isStatus: true }),
    )
    client.emit(
      'message',
      message({ id: { _serialized: 'group-1' }, from: '120363041234567890@g.us' }),
    )
    client.emit('message', message())
    const [reply] = await waitFor(() => client.sent.length > 0 && client.sent, {
      what: 'the reply',
    })
    expect(reply).toMatchObject({
      chatId: '56911112222@c.us',
      options: { quotedMessageId: 'false_56911112222@c.us_3EB0C767D26A1D0B8E4C' },
    })
    expect(reply!.content).toMatch(/sábados de 9:00 a 18:00/)
    const stored = t.hub.db.select().from(messages).all()
    expect(stored.map((m) => [m.direction, m.externalId])).toEqual([
      ['inbound', 'false_56911112222@c.us_3EB0C767D26A1D0B8E4C'],
      ['outbound', 'true_56911112222@c.us_SENT1'],
    ])
    expect(t.hub.db.select().from(triageDecisions).all()).toHaveLength(1)
  })

  it('reconnects with backoff after a disconnection and reports a refused session', async () => {
    const clients: FakeClient[] = []
    t = testHub(
      { WHATSAPP_MODE: 'web' },
      {
        configure: (config) => {
          const web = webConfig(config)
          web.retry = { baseMs: 20, maxMs: 50 }
          web.showQr = () => {}
          web.createClient = async () => {
            const client = new FakeClient()
            clients.push(client)
            return client
          }
        },
      },
    )
    await t.hub.listen()
    const source = t.hub.sources.find((s) => s.name === 'whatsapp-web')!
    const first = await waitFor(() => clients[0], { what: 'the client' })
    first.emit('ready')
    first.emit('disconnected', 'NAVIGATION')
    const second = await waitFor(() => clients[1], { what: 'a new client after the disconnection' })
    expect(first.destroyed).toBe(1)
    expect(second.initialized).toBe(1)
    second.emit('auth_failure', 'session expired')
    expect(source.health()).toMatch(/^auth_failure/)
    await waitFor(() => clients[2], { what: 'a new client after the refused session' })
    await t.close()
    t = null
    expect(clients.at(-1)!.destroyed).toBe(1)
  })
})

describeWithService(
  'chromium',
  'WhatsApp Web mode with the real client and the system Chromium',
  () => {
    const chromium = servicePath('chromium') ?? '/usr/bin/chromium'

    it('launches the browser, reports that WhatsApp cannot be reached, retries, and the hub keeps serving', async () => {
      expect(existsSync(chromium), `${chromium} (apt-get install chromium)`).toBe(true)
      const session = tempDir('centralita-wweb-')
      // A proxy port nobody listens on: WhatsApp's servers are unreachable, deterministically.
      const closed = await freePort()
      const t = testHub(
        {
          WHATSAPP_MODE: 'web',
          WHATSAPP_SESSION_DIR: session.dir,
          WHATSAPP_CHROMIUM_PATH: chromium,
          WHATSAPP_CHROMIUM_ARGS: `--proxy-server=http://127.0.0.1:${closed}`,
          CHATWOOT_WEBHOOK_SECRET: 'chatwoot-webhook-secret',
        },
        {
          configure: (config) => {
            const web = webConfig(config)
            web.retry = { baseMs: 200, maxMs: 400 }
          },
        },
      )
      try {
        const { port } = await t.hub.listen()
        const source = t.hub.sources.find((s) => s.name === 'whatsapp-web')!
        // The browser is the configured executable, with the LocalAuth profile under the session dir.
        await waitFor(
          () =>
            execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
              .split('\n')
              .some((line) => line.includes('chromium') && line.includes(session.dir)),
          { timeoutMs: 30_000, intervalMs: 100, what: 'Chromium started with the session profile' },
        )
        await waitFor(() => Number(source.snapshot?.().attempts) >= 2, {
          timeoutMs: 30_000,
          intervalMs: 100,
          what: 'a second attempt after the failure',
        })
        const status = source.snapshot?.() as { lastError: string | null; state: string }
        expect(status.lastError).toMatch(/net::ERR_PROXY_CONNECTION_FAILED|net::ERR_/)
        expect(source.health()).not.toBe('ok')

        // Every other channel keeps working.
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
        expect(ready.status).toBe(200)
        expect(
          ((await ready.json()) as { checks: Record<string, string> }).checks[
            'source.whatsapp-web'
          ],
        ).toMatch(/ERR_/)
        const payload = JSON.stringify({
          event: 'message_created',
          id: 1,
          content: 'hola',
          message_type: 'incoming',
          private: false,
          created_at: '2026-11-20T12:00:00Z',
          account: { id: 1 },
          conversation: { id: 5, inbox_id: 1, meta: { sender: { id: 9 } } },
          sender: { id: 9 },
        })
        const res = await fetch(`http://127.0.0.1:${port}/webhooks/chatwoot`, {
          method: 'POST',
          headers: chatwootHeaders(payload, 'chatwoot-webhook-secret', { delivery: 'd-1' }),
          body: payload,
        })
        expect(res.status).toBe(200)
      } finally {
        await t.close()
        session.cleanup()
      }
      // Shutdown closed the browser.
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(session.dir))
      expect(left).toEqual([])
    }, 90_000)
  },
)
