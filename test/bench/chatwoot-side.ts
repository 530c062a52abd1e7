import { createInterface } from 'node:readline'
import { startFakeChatwoot } from '../fakes/chatwoot-server.js'
import { payloads, SECRETS } from '../helpers/deliveries.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { paced } from './http.js'

// Chatwoot's side of the outbox benchmark (`chatwoot.ts`), in a process of its own: the
// loopback Chatwoot the hub writes to (answering after a delay, throttled like Rack::Attack)
// and the webhooks Chatwoot sends, paced, each carrying its conversation's labels, priority,
// team and agent as they are at that moment.
//
// Protocol on stdin/stdout, one JSON line each: it prints {url} once listening; reads
// {go: hubUrl}, sends, prints {sent}; reads {report: true}, prints the report and exits.

type Options = {
  rate: number
  conversations: number
  latencyMs: number
  perMinute: number
}
const options = JSON.parse(process.argv[2] ?? '{}') as Options

const TEXTS = [
  'Me cobraron dos veces la misma compra',
  'Quisiera una cotización para 20 sillas',
  'El pedido llegó roto, pésimo servicio',
  'quiero comprar 3 sillas de escritorio, tienen stock?',
  'la app no me deja iniciar sesión, me da error',
  '¿Cuál es el horario de atención?',
]
// A customer's next messages in a conversation are about the same thing.
const FOLLOW_UPS = [
  'Sigo esperando una respuesta, por favor',
  '¿Hay alguna novedad con lo que les escribí?',
  'Les escribo de nuevo por lo mismo de antes',
]

const agents = (team: number) =>
  [1, 2].map((n) => ({
    id: team * 10 + n,
    name: `Agente ${team}-${n}`,
    availability_status: 'online' as const,
  }))
const fake = await startFakeChatwoot({
  latencyMs: options.latencyMs,
  throttle: { perMinute: options.perMinute },
  members: Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((team) => [team, agents(team)])),
})
const out = (value: unknown, then?: () => void) =>
  process.stdout.write(`${JSON.stringify(value)}\n`, then)
out({ url: fake.url })

/** When each message was sent (its Chatwoot id → epoch ms). */
const sent = new Map<number, number>()

/** Sends `seconds` of paced webhooks, message ids from `firstId`, conversations from `base`. */
async function sendAll(hubUrl: string, run: { firstId: number; seconds: number; base: number }) {
  const delivery = (i: number) => {
    const id = run.firstId + i
    const conversation = run.base + (i % options.conversations)
    const contact = { id: run.base + 50_000 + (i % options.conversations), name: 'Cliente' }
    const text =
      i < options.conversations ? TEXTS[i % TEXTS.length] : FOLLOW_UPS[i % FOLLOW_UPS.length]
    const body = JSON.stringify(
      payloads.chatwoot(
        id,
        conversation,
        `${text} (${id})`,
        contact,
        fake.conversationState(1, conversation),
      ),
    )
    sent.set(id, Date.now())
    return {
      body,
      headers: chatwootHeaders(body, SECRETS.chatwoot, { delivery: `bench-cw-${id}` }),
    }
  }
  const result = await paced(
    `${hubUrl}/webhooks/chatwoot`,
    { rate: options.rate, seconds: run.seconds, connections: 32 },
    delivery,
  )
  return result.statuses ?? {}
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as {
    go?: string
    run?: { firstId: number; seconds: number; base: number }
    report?: true
  }
  if (command.go && command.run) {
    out({ sent: sent.size, answers: await sendAll(command.go, command.run) })
  }
  if (command.report) {
    const calls = fake.requests.map((r) => {
      const attributes = (r.body as { content_attributes?: { centralita?: { key?: string } } })
        ?.content_attributes
      return { at: r.at, path: r.path, key: attributes?.centralita?.key ?? null }
    })
    await fake.close()
    // The report is large: the process ends once it is written, not before.
    out(
      {
        sent: [...sent],
        calls,
        throttled: fake.throttled,
        violations: fake.violations().length,
      },
      () => process.exit(0),
    )
  }
}
