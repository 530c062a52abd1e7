import { z } from 'zod'
import type { OutboundDeps, Source, SourceDeps } from '../../src/contracts/channel.js'
import { type EffectExecutor, parsePayload } from '../../src/contracts/effect.js'
import { TransientError } from '../../src/contracts/errors.js'
import { sha256Hex } from '../../src/contracts/message.js'
import { backoffDelay } from '../../src/kit/backoff.js'
import { CHANNEL } from './normalize-cloud.js'
import { normalizeWeb, skipWebMessage, type WebMessage } from './normalize-web.js'
import { recordSentMessage } from './record-sent.js'

export const WHATSAPP_WEB_SEND = 'whatsapp.web.send'

/** What the hub uses of a whatsapp-web.js `Client`. */
export interface WebClient {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  initialize(): Promise<void>
  destroy(): Promise<void>
  sendMessage(
    chatId: string,
    content: string,
    options?: { quotedMessageId?: string; sendSeen?: boolean },
  ): Promise<{ id: { _serialized: string } }>
}

export type WebClientOptions = {
  sessionDir: string
  chromiumPath: string
  /** Added to CHROMIUM_ARGS (a proxy, a window size). */
  chromiumArgs: string[]
  clientId: string
}
export type WebClientFactory = (options: WebClientOptions) => Promise<WebClient>

export type WhatsAppWebConfig = WebClientOptions & {
  /** How the client is made: whatsapp-web.js with the system Chromium (tests pass their own). */
  createClient: WebClientFactory
  /** Where the login QR code goes (the terminal by default). */
  showQr: (qr: string) => void
  /** Reconnect backoff. */
  retry: { baseMs: number; maxMs: number }
}

/** Chromium flags for a server: no sandbox as root, no GPU, no calls home (the network may be closed). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** whatsapp-web.js with LocalAuth under `sessionDir`, loaded only when web mode starts. */
export const whatsappWebJs: WebClientFactory = async (options) => {
  const { default: wweb } = await import('whatsapp-web.js')
  return new wweb.Client({
    authStrategy: new wweb.LocalAuth({ clientId: options.clientId, dataPath: options.sessionDir }),
    puppeteer: {
      headless: true,
      executablePath: options.chromiumPath,
      args: [...CHROMIUM_ARGS, ...options.chromiumArgs],
    },
  }) as unknown as WebClient
}

/** Prints the login QR code on the terminal (stderr: stdout carries the JSON logs). */
export async function printQr(qr: string): Promise<void> {
  const { default: qrcode } = await import('qrcode-terminal')
  qrcode.generate(qr, { small: true }, (rendered) =>
    process.stderr.write(
      `\nWhatsApp Web: scan this code with the business phone (Linked devices)\n${rendered}\n`,
    ),
  )
}

export type SessionState =
  | 'stopped'
  | 'starting'
  | 'waiting_for_qr_scan'
  | 'authenticated'
  | 'ready'
  | 'reconnecting'
  | 'auth_failure'

export type SessionStatus = {
  state: SessionState
  qr: string | null
  lastError: string | null
  attempts: number
}

/**
 * One WhatsApp Web session: starts the client, shows the QR code until it is scanned, turns
 * incoming messages into deliveries, and when the client fails to start, is disconnected or
 * loses its authentication, destroys it and starts a new one with backoff (the LocalAuth
 * profile in `sessionDir` survives, so a restart does not need a new scan).
 */
export class WebSession {
  private client: WebClient | null = null
  private timer: NodeJS.Timeout | null = null
  private stopped = true
  private starting: Promise<void> | null = null
  private status: SessionStatus = { state: 'stopped', qr: null, lastError: null, attempts: 0 }

  constructor(
    private readonly config: WhatsAppWebConfig,
    private readonly deps: SourceDeps,
  ) {}

  snapshot(): SessionStatus {
    return { ...this.status }
  }

  async start(): Promise<void> {
    this.stopped = false
    this.launch()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.starting?.catch(() => {})
    await this.dispose()
    this.status = { ...this.status, state: 'stopped', qr: null }
  }

  async send(chatId: string, text: string, quoted: string | null): Promise<string> {
    if (!this.client || this.status.state !== 'ready') {
      throw new TransientError(`whatsapp web: session not ready (${this.status.state})`)
    }
    try {
      const sent = await this.client.sendMessage(chatId, text, {
        ...(quoted ? { quotedMessageId: quoted } : {}),
        sendSeen: false,
      })
      return sent.id._serialized
    } catch (err) {
      throw new TransientError(`whatsapp web: ${(err as Error).message.slice(0, 200)}`, undefined, {
        cause: err,
      })
    }
  }

  private launch(): void {
    if (this.stopped) return
    this.status = { ...this.status, state: 'starting', attempts: this.status.attempts + 1 }
    this.starting = this.open().catch((err: Error) => this.failed(err.message))
  }

  private async open(): Promise<void> {
    const client = await this.config.createClient(this.config)
    this.client = client
    const log = this.deps.logger
    client.on('qr', ((qr: string) => {
      this.status = { ...this.status, state: 'waiting_for_qr_scan', qr }
      log.warn('whatsapp web: waiting for the QR code to be scanned')
      this.config.showQr(qr)
    }) as never)
    client.on('authenticated', (() => {
      this.status = { ...this.status, state: 'authenticated', qr: null }
      log.info('whatsapp web: authenticated')
    }) as never)
    client.on('ready', (() => {
      this.status = { ...this.status, state: 'ready', qr: null, lastError: null, attempts: 0 }
      log.info('whatsapp web: ready')
    }) as never)
    client.on('auth_failure', ((message: string) => {
      log.error(
        { reason: String(message).slice(0, 200) },
        'whatsapp web: the saved session was refused; scan a new QR code',
      )
      this.status = {
        ...this.status,
        state: 'auth_failure',
        lastError: `auth_failure: ${String(message).slice(0, 200)}`,
      }
      this.restart()
    }) as never)
    client.on('disconnected', ((reason: string) => {
      log.warn({ reason: String(reason).slice(0, 100) }, 'whatsapp web: disconnected')
      this.status = { ...this.status, lastError: `disconnected: ${String(reason).slice(0, 100)}` }
      this.restart()
    }) as never)
    client.on('message', ((message: WebMessage) => {
      this.receive(message).catch((err: Error) =>
        log.error({ err }, 'whatsapp web: message not stored'),
      )
    }) as never)
    await client.initialize()
  }

  private async receive(message: WebMessage): Promise<void> {
    const skip = skipWebMessage(message)
    if (skip) return
    const raw = JSON.stringify({
      id: message.id._serialized,
      from: message.from,
      t: message.timestamp,
    })
    const normalized = normalizeWeb(message, sha256Hex(raw), this.deps.now())
    const result = await this.deps.accept({
      deliveryId: null,
      rawHash: normalized.rawHash,
      messages: [normalized],
      events: [],
    })
    if (result.outcome === 'store_failed') throw new Error('store failed')
  }

  private failed(reason: string): void {
    this.deps.logger.warn(
      { reason: reason.slice(0, 300), attempt: this.status.attempts },
      'whatsapp web: the session could not start; retrying',
    )
    this.status = { ...this.status, lastError: reason.slice(0, 300) }
    this.restart()
  }

  /** Destroys the client (closing its browser) and starts a new one after a backoff delay. */
  private restart(): void {
    if (this.stopped || this.timer) return
    if (this.status.state !== 'auth_failure')
      this.status = { ...this.status, state: 'reconnecting' }
    const delay = backoffDelay(Math.max(1, this.status.attempts), this.config.retry)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.dispose().then(() => this.launch())
    }, delay)
    this.timer.unref()
  }

  private async dispose(): Promise<void> {
    const client = this.client
    this.client = null
    if (client) await client.destroy().catch(() => {})
  }
}

const sessions = new WeakMap<WhatsAppWebConfig, WebSession>()

export function webSource(config: WhatsAppWebConfig, deps: SourceDeps): Source {
  const session = new WebSession(config, deps)
  sessions.set(config, session)
  return {
    name: 'whatsapp-web',
    start: () => session.start(),
    stop: () => session.stop(),
    health: () => {
      const { state, lastError } = session.snapshot()
      return state === 'ready' ? 'ok' : lastError ? `${state} (${lastError})` : state
    },
    snapshot: () => session.snapshot(),
  }
}

const Payload = z.object({
  chatId: z.string().min(3),
  text: z.string().min(1).max(65_536),
  quoted: z.string().nullable(),
  conversationId: z.number().int(),
  automatic: z.boolean(),
})

/** Sends `whatsapp.web.send` effects through the running session. */
export function webExecutors(
  config: WhatsAppWebConfig,
  deps: OutboundDeps,
): Map<string, EffectExecutor> {
  return new Map<string, EffectExecutor>([
    [
      WHATSAPP_WEB_SEND,
      async (run) => {
        const p = parsePayload(Payload, run)
        const known = await deps.store.sentWith(CHANNEL, run.key)
        if (known) return { messageId: known, found: true }
        const session = sessions.get(config)
        if (!session) throw new TransientError('whatsapp web: the session has not started')
        const id = await session.send(p.chatId, p.text, p.quoted)
        await recordSentMessage(
          deps,
          {
            key: run.key,
            id,
            conversationId: p.conversationId,
            text: p.text,
            automatic: p.automatic,
          },
          { chatId: p.chatId },
        )
        return { messageId: id }
      },
    ],
  ])
}
