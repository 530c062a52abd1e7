import { type Clock, manualClock } from '../../src/kit/clock.js'
import { startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { startFakeGraph } from '../fakes/graph-server.js'
import { startFakeSmsProvider, startPushReceiver } from '../fakes/sms-provider.js'
import { startSmtpSink } from '../fakes/smtp-sink.js'
import { HUB_ADDRESS, SECRETS } from './deliveries.js'
import { testHub } from './hub.js'

/** The loopback upstreams a fully configured hub talks to. */
export async function startUpstreams() {
  const [chatwoot, sink, graph, sms, push] = await Promise.all([
    startFakeChatwoot({
      members: {
        2: [
          { id: 21, name: 'Vale', availability_status: 'online' },
          { id: 22, name: 'Tomás', availability_status: 'offline' },
          { id: 23, name: 'Rocío', availability_status: 'online' },
        ],
      },
    }),
    startSmtpSink(),
    startFakeGraph(),
    startFakeSmsProvider(),
    startPushReceiver(),
  ])
  return {
    chatwoot,
    sink,
    graph,
    sms,
    push,
    close: async () => {
      await Promise.all([chatwoot.close(), sink.close(), graph.close(), sms.close(), push.close()])
    },
  }
}
export type Upstreams = Awaited<ReturnType<typeof startUpstreams>>

/** Every inbound channel on, its answers going to the loopback Chatwoot, Graph API and SMTP. */
export function channelEnv(up: {
  chatwoot: { url: string; token: string }
  sink: { url: string }
  graph: { url: string; token: string }
}): Record<string, string> {
  return {
    TAWK_WEBHOOK_SECRET: SECRETS.tawk,
    CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
    CHATWOOT_BASE_URL: up.chatwoot.url,
    CHATWOOT_API_TOKEN: up.chatwoot.token,
    CHATWOOT_ACCOUNT_ID: '1',
    CHATWOOT_MIRROR_INBOX_ID: '9',
    // The loopback Chatwoot does not throttle: the hub's own limit is not under test here.
    CHATWOOT_API_RATE_LIMIT: '600000',
    EMAIL_FROM: `Soporte Tienda <${HUB_ADDRESS}>`,
    SMTP_URL: up.sink.url,
    EMAIL_WEBHOOK_SECRET: SECRETS.email,
    WHATSAPP_APP_SECRET: SECRETS.whatsapp,
    WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
    WHATSAPP_ACCESS_TOKEN: up.graph.token,
    WHATSAPP_PHONE_NUMBER_ID: '110022003300440',
    WHATSAPP_GRAPH_URL: up.graph.url,
    INTERNAL_WEBHOOK_SECRET: SECRETS.internal,
  }
}

/** A hub with every channel and notifier configured against the loopback upstreams. */
export function supportHub(
  up: Upstreams,
  options: { clock?: Clock; dir?: string; env?: Record<string, string> } = {},
) {
  return testHub(
    {
      ADMIN_TOKEN: SECRETS.admin,
      ...channelEnv(up),
      NOTIFY_PUSH_URL: up.push.url,
      SMS_PROVIDER_URL: up.sms.url,
      SMS_ACCOUNT_SID: up.sms.sid,
      SMS_AUTH_TOKEN: up.sms.token,
      SMS_FROM: '+56229876543',
      ...options.env,
    },
    {
      clock: options.clock ?? manualClock('2026-11-18T15:00:00Z'),
      ...(options.dir ? { dir: options.dir } : {}),
    },
  )
}

export { deliver, HUB_ADDRESS, payloads, SECRETS } from './deliveries.js'
