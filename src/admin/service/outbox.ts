import { z } from 'zod'
import { deadLetterView, replayDeadLetters } from '../../outbox/dead-letter.js'
import { getEffect, listEffects } from '../../store/outbox-store.js'
import {
  type AdminApiDeps,
  By,
  conflict,
  Id,
  notFound,
  ok,
  read,
  type ServiceInput,
} from './kit.js'

const OutboxFilter = z.object({
  status: z.enum(['pending', 'in_flight', 'done', 'dead']).default('dead'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})

/** The outbox (by default its dead letter), one effect, a replay; and the channels' state. */
export function outboxService(deps: AdminApiDeps) {
  const { db } = deps
  return {
    async outbox(req: ServiceInput) {
      const q = read(OutboxFilter, req.query)
      if (!q.ok) return q.refusal
      return ok({ effects: (await listEffects(db, q.value)).map(deadLetterView) })
    },

    async effect(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const row = await getEffect(db, id.value)
      if (!row) return notFound(`effect ${id.value} not found`)
      return ok({ effect: deadLetterView(row) })
    },

    async replay(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(z.object({ by: By }), req.body ?? {})
      if (!body.ok) return body.refusal
      if (!(await getEffect(db, id.value))) return notFound(`effect ${id.value} not found`)
      const { replayed } = await replayDeadLetters(db, [id.value], body.value.by, deps.clock.now())
      if (replayed.length === 0) return conflict(`effect ${id.value} is not in the dead letter`)
      deps.onEffects()
      return ok({ effect: deadLetterView((await getEffect(db, id.value))!) })
    },

    async channels(_req?: ServiceInput) {
      return ok({
        channels: [...deps.channels.entries()].map(([id, { adapter, settings }]) => ({
          id,
          kind: adapter.outboundOnly ? 'notifications' : 'channel',
          inbound: settings.inbound.enabled ? 'enabled' : `disabled: ${settings.inbound.reason}`,
        })),
        // Session sources (WhatsApp Web's login QR code while it waits for a scan, mailboxes).
        sources: deps.sources.map((s) => ({
          name: s.name,
          health: s.health(),
          ...(s.snapshot?.() ?? {}),
        })),
      })
    },
  }
}
