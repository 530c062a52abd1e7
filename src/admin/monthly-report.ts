import { DateTime } from 'luxon'
import type { Sql } from '../store/sql.js'

export type MonthlyReport = {
  month: string
  timezone: string
  /** Customer messages triaged in the month, by intent and by channel. */
  requests: { total: number; byIntent: Count[]; byChannel: Count[]; byTicketType: Count[] }
  firstResponse: Timing
  resolution: Timing
  escalations: { total: number; byLevel: Count[] }
  satisfaction: { responses: number; average: number | null; byScore: Count[] }
  /** What kept coming back: the most frequent intents and signals of tickets, and people who complained more than once. */
  recurring: { topics: Count[]; repeatComplainers: number }
}

export type Count = { key: string; n: number }
export type Timing = {
  /** Tickets opened in the month that had this deadline. */
  tickets: number
  /** Of those, how many reached it (answered / resolved). */
  done: number
  medianMinutes: number | null
  averageMinutes: number | null
  withinSla: number
  /** Share of the done ones that met their deadline, in percent. */
  withinSlaPercent: number | null
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/

/** The month's bounds (unix ms) in the business's time zone. */
export function monthRange(month: string, timezone: string): { from: number; to: number } {
  if (!MONTH.test(month)) throw new Error(`month must look like 2026-11, not "${month}"`)
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: timezone })
  return { from: start.toMillis(), to: start.plus({ months: 1 }).toMillis() }
}

const median = (values: number[]) => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10)

function timing(rows: { start: number; end: number | null; due: number | null }[]): Timing {
  const withDeadline = rows.filter((r) => r.due !== null)
  const done = withDeadline.filter((r) => r.end !== null)
  const minutes = done.map((r) => (r.end! - r.start) / 60_000)
  const within = done.filter((r) => r.end! <= r.due!).length
  return {
    tickets: withDeadline.length,
    done: done.length,
    medianMinutes: round1(median(minutes)),
    averageMinutes: round1(
      minutes.length ? minutes.reduce((a, b) => a + b, 0) / minutes.length : null,
    ),
    withinSla: within,
    withinSlaPercent: done.length ? round1((within / done.length) * 100) : null,
  }
}

/** The monthly customer-service report, read from the store. */
export async function monthlyReport(
  db: Sql,
  month: string,
  timezone: string,
): Promise<MonthlyReport> {
  const { from, to } = monthRange(month, timezone)
  // Every query's period is its first two placeholders.
  const counts = async (sql: string): Promise<Count[]> =>
    (await db.all<{ key: string | null; n: number }>(sql, [from, to])).map((r) => ({
      key: r.key ?? '—',
      n: Number(r.n),
    }))
  const signals =
    db.dialect === 'sqlite'
      ? 'json_each(d.signals) j'
      : 'jsonb_array_elements_text(d.signals::jsonb) as j(value)'
  const [byIntent, byChannel, byTicketType, ticketRows, byLevel, topics, repeat] =
    await Promise.all([
      counts(
        `select intent as key, count(*) as n from triage_decisions
          where created_at >= ? and created_at < ? group by intent order by n desc, key`,
      ),
      counts(
        `select m.channel as key, count(*) as n
           from triage_decisions d join messages m on m.id = d.message_id
          where d.created_at >= ? and d.created_at < ? group by m.channel order by n desc, key`,
      ),
      counts(
        `select type as key, count(*) as n from tickets
          where created_at >= ? and created_at < ? group by type order by n desc, key`,
      ),
      db.all<{
        created_at: number
        first_response_at: number | null
        first_response_due_at: number | null
        resolved_at: number | null
        resolution_due_at: number | null
        satisfaction: number | null
      }>(
        `select created_at, first_response_at, first_response_due_at, resolved_at,
                resolution_due_at, satisfaction
           from tickets where created_at >= ? and created_at < ?`,
        [from, to],
      ),
      counts(
        `select to_level as key, count(*) as n from escalations
          where created_at >= ? and created_at < ? group by to_level order by key`,
      ),
      db.all<{ key: string; n: number }>(
        `select key, count(*) as n from (
           select d.intent as key from tickets t join triage_decisions d on d.message_id = t.message_id
             where t.created_at >= ? and t.created_at < ?
           union all
           select j.value as key from triage_decisions d, ${signals}
             where d.created_at >= ? and d.created_at < ?
         ) as topic group by key order by n desc, key limit 8`,
        [from, to, from, to],
      ),
      db.get<{ n: number }>(
        `select count(*) as n from (
           select m.contact_id from triage_decisions d join messages m on m.id = d.message_id
            where d.intent in ('complaint', 'legal') and d.created_at >= ? and d.created_at < ?
            group by m.contact_id having count(*) > 1
         ) as repeated`,
        [from, to],
      ),
    ])
  const scores = ticketRows
    .map((t) => t.satisfaction)
    .filter((s): s is number => s !== null)
    .map(Number)
  const time = (value: number | null) => (value === null ? null : Number(value))
  return {
    month,
    timezone,
    requests: {
      total: byIntent.reduce((n, c) => n + c.n, 0),
      byIntent,
      byChannel,
      byTicketType,
    },
    firstResponse: timing(
      ticketRows.map((t) => ({
        start: Number(t.created_at),
        end: time(t.first_response_at),
        due: time(t.first_response_due_at),
      })),
    ),
    resolution: timing(
      ticketRows.map((t) => ({
        start: Number(t.created_at),
        end: time(t.resolved_at),
        due: time(t.resolution_due_at),
      })),
    ),
    escalations: { total: byLevel.reduce((n, c) => n + c.n, 0), byLevel },
    satisfaction: {
      responses: scores.length,
      average: scores.length ? round1(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
      byScore: [1, 2, 3, 4, 5].map((s) => ({
        key: String(s),
        n: scores.filter((v) => v === s).length,
      })),
    },
    recurring: {
      topics: topics.map((r) => ({ key: r.key, n: Number(r.n) })),
      repeatComplainers: Number(repeat?.n ?? 0),
    },
  }
}

const csvCell = (value: string | number | null) => {
  const text = value === null ? '' : String(value)
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The report as CSV: one `section,key,value` row per figure. */
export function reportCsv(r: MonthlyReport): string {
  type Row = [string, string, string | number | null]
  const rows: Row[] = [
    ['report', 'month', r.month],
    ['report', 'timezone', r.timezone],
    ['requests', 'total', r.requests.total],
    ...r.requests.byIntent.map((c): Row => ['requests_by_intent', c.key, c.n]),
    ...r.requests.byChannel.map((c): Row => ['requests_by_channel', c.key, c.n]),
    ...r.requests.byTicketType.map((c): Row => ['tickets_by_type', c.key, c.n]),
  ]
  for (const [section, t] of [
    ['first_response', r.firstResponse],
    ['resolution', r.resolution],
  ] as const) {
    rows.push(
      [section, 'tickets', t.tickets],
      [section, 'done', t.done],
      [section, 'median_minutes', t.medianMinutes],
      [section, 'average_minutes', t.averageMinutes],
      [section, 'within_sla', t.withinSla],
      [section, 'within_sla_percent', t.withinSlaPercent],
    )
  }
  rows.push(['escalations', 'total', r.escalations.total])
  for (const c of r.escalations.byLevel) rows.push(['escalations_by_level', c.key, c.n])
  rows.push(['satisfaction', 'responses', r.satisfaction.responses])
  rows.push(['satisfaction', 'average', r.satisfaction.average])
  for (const c of r.satisfaction.byScore) rows.push(['satisfaction_by_score', c.key, c.n])
  for (const c of r.recurring.topics) rows.push(['recurring_topics', c.key, c.n])
  rows.push(['recurring', 'repeat_complainers', r.recurring.repeatComplainers])
  return `section,key,value\n${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`
}

/** The report as text for a terminal. */
export function reportText(r: MonthlyReport): string {
  const list = (counts: Count[]) => counts.map((c) => `${c.key} ${c.n}`).join(', ') || '—'
  const time = (t: Timing, unit: 'min' | 'h') => {
    const v = (m: number | null) =>
      m === null ? '—' : unit === 'h' ? `${round1(m / 60)} h` : `${m} min`
    return `${t.done}/${t.tickets} · median ${v(t.medianMinutes)} · average ${v(t.averageMinutes)} · within SLA ${t.withinSlaPercent ?? '—'} %`
  }
  return [
    `Customer service report ${r.month} (${r.timezone})`,
    `requests: ${r.requests.total} — by type: ${list(r.requests.byIntent)}`,
    `by channel: ${list(r.requests.byChannel)}`,
    `tickets by type: ${list(r.requests.byTicketType)}`,
    `first response: ${time(r.firstResponse, 'min')}`,
    `resolution: ${time(r.resolution, 'h')}`,
    `escalations: ${r.escalations.total} — ${list(r.escalations.byLevel)}`,
    `satisfaction: ${r.satisfaction.responses} answers, average ${r.satisfaction.average ?? '—'} — ${list(r.satisfaction.byScore)}`,
    `recurring: ${list(r.recurring.topics)}; people who complained more than once: ${r.recurring.repeatComplainers}`,
  ].join('\n')
}
