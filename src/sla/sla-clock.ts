import { planNotification } from '../actions/notify.js'
import type { Level } from '../cases/case-rules.js'
import type { ChannelEntry } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import { type Loop, startLoop } from '../kit/loop.js'
import { oneAtATime } from '../store/one-at-a-time.js'
import { enqueueEffects } from '../store/outbox-store.js'
import { dueCases, fireOnce, nextCaseDeadline } from '../store/sla-store.js'
import type { Sql } from '../store/sql.js'
import type { TicketRow } from '../store/ticket-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import {
  alertFor,
  breachEscalation,
  localTime,
  type Planned,
  recordUnsent,
  warningAlert,
} from './escalation.js'

export type SlaClockDeps = {
  db: Sql
  clock: Clock
  logger: Logger
  rulebook: () => Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  onEffects?: () => void
  /** Told of each SLA breach that fires (metrics). */
  onBreach?: (kind: string) => void
  /** Longest sleep when no deadline is near: a backstop, not the schedule. */
  pollMs?: number
}

/**
 * The SLA clock. Each run reads every open ticket and escalation, fires what is due (each
 * event once: `sla_events`), and sleeps until the nearest deadline or warning — not on a
 * fixed poll. After a restart or a jump of the clock, the first run fires everything that
 * came due meanwhile, once.
 */
export function createSlaClock(
  deps: SlaClockDeps,
): Loop & { runNow(): Promise<{ fired: number; next: number | null }> } {
  const channelOf = new Map<number, string>()
  const conversationChannel = async (db: Sql, id: number): Promise<string | null> => {
    const known = channelOf.get(id)
    if (known) return known
    const row = await db.get<{ channel: string }>(
      'select channel from conversations where id = ?',
      [id],
    )
    if (row) channelOf.set(id, row.channel)
    return row?.channel ?? null
  }

  const ticketAlert = (
    rulebook: Rulebook,
    t: TicketRow,
    kind: 'first_response' | 'resolution',
    due: number,
    channel: string | null,
  ): Planned =>
    planNotification(
      alertFor(rulebook, t.queue, {
        key: `ticket:${t.id}:${kind}_breach:${due}`,
        subject: `ticket:${t.id}`,
        via: ['push', 'email'],
        urgent: t.priority === 'critica' || t.priority === 'alta',
        conversationId: t.conversationId,
        title: `SLA de ${kind === 'first_response' ? 'primera respuesta' : 'resolución'} vencido: caso ${t.number}`,
        text: `Prioridad ${t.priority}. El plazo venció el ${localTime(rulebook, channel, due)}.`,
      }),
      deps.channels,
    )

  const runNow = async () => {
    const nowDate = deps.clock.now()
    const now = nowDate.getTime()
    const rulebook = deps.rulebook()
    const config = rulebook.escalation
    let fired = 0
    const effects: Effect[] = []
    const warnBefore = {
      L1: config.warn_before.L1.before,
      L2: config.warn_before.L2.before,
      L3: config.warn_before.L3.before,
    }
    const fire = async (tx: Sql, subject: string, kind: string, due: number) => {
      const fired = await fireOnce(tx, subject, kind, due, now)
      if (fired && kind.endsWith('breach')) deps.onBreach?.(kind)
      return fired
    }
    await deps.db.transaction(async (tx) => {
      // One instance's clock at a time on a shared PostgreSQL (each event fires once anyway).
      await oneAtATime(tx, 'sla')
      // Only what is due is read; everything else waits for the wake-up at the next deadline.
      const { tickets, escalations, escalatedTickets } = await dueCases(tx, now, warnBefore)
      const byId = new Map(escalatedTickets.map((t) => [t.id, t]))
      // Alerts that could not go out are logged, and kept with the case (`unrecorded`: the
      // escalations planned here record their own).
      const unsent: { subject: string; notes: string[] }[] = []
      const take = (planned: Planned, what: string, unrecorded?: string) => {
        fired++
        effects.push(...planned.effects)
        for (const note of planned.notes) deps.logger.warn({ what }, note)
        if (unrecorded) unsent.push({ subject: unrecorded, notes: planned.notes })
      }
      for (const t of tickets) {
        const firstDue = t.firstResponseDueAt
        if (t.firstResponseAt === null && firstDue !== null && now >= firstDue) {
          if (await fire(tx, `ticket:${t.id}`, 'first_response_breach', firstDue))
            take(
              ticketAlert(
                rulebook,
                t,
                'first_response',
                firstDue,
                await conversationChannel(tx, t.conversationId),
              ),
              `ticket ${t.number}`,
              `ticket:${t.id}`,
            )
        }
        if (t.resolutionDueAt !== null && now >= t.resolutionDueAt) {
          if (await fire(tx, `ticket:${t.id}`, 'resolution_breach', t.resolutionDueAt))
            take(
              ticketAlert(
                rulebook,
                t,
                'resolution',
                t.resolutionDueAt,
                await conversationChannel(tx, t.conversationId),
              ),
              `ticket ${t.number}`,
              `ticket:${t.id}`,
            )
        }
      }
      for (const e of escalations) {
        const level = e.toLevel as Level
        const ticket = byId.get(e.ticketId)
        // A level meets its SLA by taking the case (accepting it, or answering the customer).
        if (!ticket || !config.levels[level]) continue
        const channel = await conversationChannel(tx, ticket.conversationId)
        if (now >= e.slaDueAt) {
          if (await fire(tx, `escalation:${e.id}`, 'breach', e.slaDueAt)) {
            take(
              await breachEscalation(tx, rulebook, e, ticket, channel, deps.channels, now),
              `escalation ${e.id}`,
            )
          }
        } else if (await fire(tx, `escalation:${e.id}`, 'warning', e.slaDueAt)) {
          take(
            warningAlert(rulebook, e, ticket, channel, deps.channels),
            `escalation ${e.id}`,
            `ticket:${e.ticketId}`,
          )
        }
      }
      for (const { subject, notes } of unsent) await recordUnsent(tx, subject, notes, now)
      await enqueueEffects(tx, effects, nowDate)
    })
    if (fired > 0) deps.logger.info({ fired, effects: effects.length }, 'sla events fired')
    if (effects.length > 0) deps.onEffects?.()
    return { fired, next: await nextCaseDeadline(deps.db, now, warnBefore) }
  }

  const loop: Loop = startLoop({
    name: 'sla',
    logger: deps.logger,
    pollMs: deps.pollMs ?? 30 * 60_000,
    runOnce: async () => {
      const { fired, next } = await runNow()
      // An escalation made now has its own deadline: read again so it is scheduled too.
      if (fired > 0) return 'more'
      if (next !== null) loop.wakeAt(Date.now() + (next - deps.clock.now().getTime()))
      return 'idle'
    },
  })
  return Object.assign(loop, { runNow })
}
