import { DateTime } from 'luxon'
import { planNotification } from '../actions/notify.js'
import { addBusinessTime } from '../calendar/business-hours.js'
import { zoneNamed } from '../calendar/zone.js'
import type { Level } from '../cases/case-rules.js'
import type { ChannelEntry, Notification, NotifyVia } from '../contracts/channel.js'
import type { Effect } from '../contracts/effect.js'
import type { Sql } from '../store/sql.js'
import { auditAll, type EscalationRow, escalate, type TicketRow } from '../store/ticket-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'

/** A deadline `durationMs` after `from`, in business time when asked (calendar of the channel). */
export function deadline(
  rulebook: Rulebook,
  channel: string | null,
  from: number,
  durationMs: number,
  businessHours: boolean,
): number {
  if (!businessHours) return from + durationMs
  return addBusinessTime(rulebook.calendarFor(channel), new Date(from), durationMs).getTime()
}

/** A moment as admins read it, in the business's timezone: "20-11-2026 18:00". */
export function localTime(rulebook: Rulebook, channel: string | null, at: number): string {
  const zone = rulebook.calendarFor(channel).timezone
  return DateTime.fromMillis(at, { zone: zoneNamed(zone) }).toFormat('dd-MM-yyyy HH:mm')
}

const LEVEL_ES: Record<Level, string> = { L1: 'L1', L2: 'L2', L3: 'L3' }

/** Who is alerted for a queue: its contacts, and the push topic named after it. */
export function alertFor(
  rulebook: Rulebook,
  queue: string | 'management',
  alert: {
    key: string
    subject: string
    via: readonly NotifyVia[]
    title: string
    text: string
    urgent: boolean
    conversationId?: number
  },
): Notification {
  if (queue === 'management') {
    const m = rulebook.escalation.management
    return { ...alert, topic: 'management', emails: m.emails, phones: m.phones }
  }
  const contacts = rulebook.queue(queue)?.contacts ?? { emails: [], phones: [] }
  return { ...alert, topic: queue, emails: contacts.emails, phones: contacts.phones }
}

export type Planned = { effects: Effect[]; notes: string[] }

/**
 * Alerts that could not go out (a means nobody configured, nobody to reach), kept in the case's
 * audit log so the console shows them beside the ones that did.
 */
export async function recordUnsent(
  db: Sql,
  subject: string,
  notes: readonly string[],
  at: number,
): Promise<void> {
  await auditAll(
    db,
    notes.map((reason) => ({
      actor: 'centralita',
      action: 'alert.not_sent',
      subject,
      details: { reason },
    })),
    at,
  )
}

const merge = (into: Planned, from: Planned) => {
  into.effects.push(...from.effects)
  into.notes.push(...from.notes)
}

/**
 * Escalates a ticket to `level` (its owner takes the case and its SLA starts) and alerts the
 * owner as the level's rules say. Used by the triage (a case that starts at a level), the SLA
 * clock (an expired level) and the admin API (a person escalates).
 */
export async function escalateTicket(
  db: Sql,
  input: {
    ticket: Pick<TicketRow, 'id' | 'number' | 'conversationId' | 'priority'>
    channel: string | null
    level: Level
    reason: string
    notes?: string | null
    by: string
    summary?: string
    /** A case that starts at this level stays in the routing's queue; a case moved up goes to the owner. */
    initial?: boolean
  },
  rulebook: Rulebook,
  channels: ReadonlyMap<string, ChannelEntry>,
  at: number,
): Promise<{ escalation: EscalationRow } & Planned> {
  const config = rulebook.escalation.levels[input.level]
  const slaDueAt = deadline(rulebook, input.channel, at, config.sla, config.business_hours)
  const escalation = await escalate(
    db,
    {
      ticketId: input.ticket.id,
      toLevel: input.level,
      owner: input.initial ? null : config.owner,
      reason: input.reason,
      notes: input.notes ?? null,
      escalatedBy: input.by,
      slaDueAt,
    },
    at,
  )
  const owner = rulebook.queue(config.owner)?.name ?? config.owner
  const planned = planNotification(
    alertFor(rulebook, config.owner, {
      key: `escalation:${escalation.id}:created`,
      subject: `ticket:${input.ticket.id}`,
      via: config.notify,
      urgent: input.level !== 'L1',
      conversationId: input.ticket.conversationId,
      title: `[${LEVEL_ES[input.level]}] Caso ${input.ticket.number} escalado a ${owner}`,
      text: [
        `Motivo: ${input.reason}`,
        `Prioridad: ${input.ticket.priority}`,
        `Plazo (${input.level}): ${localTime(rulebook, input.channel, slaDueAt)}`,
        input.notes ? `Notas: ${input.notes}` : null,
        input.summary ? `Mensaje: ${input.summary.slice(0, 300)}` : null,
      ]
        .filter(Boolean)
        .join('\n'),
    }),
    channels,
  )
  await recordUnsent(db, `ticket:${input.ticket.id}`, planned.notes, at)
  return { escalation, ...planned }
}

/** Alert for a level's SLA about to expire. */
export function warningAlert(
  rulebook: Rulebook,
  e: EscalationRow,
  ticket: Pick<TicketRow, 'number' | 'conversationId'>,
  channel: string | null,
  channels: ReadonlyMap<string, ChannelEntry>,
): Planned {
  const level = e.toLevel as Level
  const config = rulebook.escalation
  return planNotification(
    alertFor(rulebook, config.levels[level].owner, {
      key: `escalation:${e.id}:warning:${e.slaDueAt}`,
      subject: `ticket:${e.ticketId}`,
      via: config.warn_before[level].notify,
      urgent: level !== 'L1',
      conversationId: ticket.conversationId,
      title: `[${level}] SLA por vencer: caso ${ticket.number}`,
      text: `El plazo de ${level} vence el ${localTime(rulebook, channel, e.slaDueAt)}.\nMotivo del escalamiento: ${e.reason}`,
    }),
    channels,
  )
}

/**
 * A level's SLA expired with nobody taking the case: email (or as on_breach says) the next
 * level — management after L3 — and, when the rules say so, escalate the case to it. Alerts
 * that cannot go out are recorded with the case (`recordUnsent`).
 */
export async function breachEscalation(
  db: Sql,
  rulebook: Rulebook,
  e: EscalationRow,
  ticket: Pick<TicketRow, 'id' | 'number' | 'conversationId' | 'priority'>,
  channel: string | null,
  channels: ReadonlyMap<string, ChannelEntry>,
  at: number,
): Promise<Planned> {
  const config = rulebook.escalation
  const level = e.toLevel as Level
  const next: Level | null = level === 'L1' ? 'L2' : level === 'L2' ? 'L3' : null
  const out: Planned = { effects: [], notes: [] }
  const alert = planNotification(
    alertFor(rulebook, next ? config.levels[next].owner : 'management', {
      key: `escalation:${e.id}:breach:${e.slaDueAt}`,
      subject: `ticket:${e.ticketId}`,
      via: config.on_breach.notify,
      urgent: true,
      conversationId: ticket.conversationId,
      title: `[${level}] SLA vencido: caso ${ticket.number}${next && config.on_breach.escalate ? ` → ${next}` : ''}`,
      text: `El plazo de ${level} venció el ${localTime(rulebook, channel, e.slaDueAt)} sin que nadie tomara el caso.\nMotivo del escalamiento: ${e.reason}`,
    }),
    channels,
  )
  await recordUnsent(db, `ticket:${e.ticketId}`, alert.notes, at)
  merge(out, alert)
  if (next && config.on_breach.escalate) {
    const escalated = await escalateTicket(
      db,
      { ticket, channel, level: next, reason: `SLA ${level} vencido`, by: 'centralita (SLA)' },
      rulebook,
      channels,
      at,
    )
    merge(out, escalated)
  }
  return out
}
