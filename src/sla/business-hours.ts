import { DateTime, Interval } from 'luxon'
import { zoneNamed } from './zone.js'

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** A business calendar: a timezone, opening intervals per weekday, and holidays. */
export type Calendar = {
  id: string
  timezone: string
  /** Always open (24/7): every other field is ignored. */
  alwaysOpen: boolean
  /** Minutes from local midnight, [open, close) pairs, per weekday; several make split shifts. */
  hours: Record<Weekday, [number, number][]>
  /** Closed all day (ISO dates, local). */
  holidays: ReadonlySet<string>
}

/** "09:00-13:30" → [540, 810]. "24:00" closes at midnight. */
export function parseInterval(text: string): [number, number] {
  const match = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not an interval like 09:00-18:00`)
  const [from, to] = [
    Number(match[1]) * 60 + Number(match[2]),
    Number(match[3]) * 60 + Number(match[4]),
  ]
  if (Number(match[2]) > 59 || Number(match[4]) > 59 || from >= to || to > 24 * 60) {
    throw new Error(`"${text}" is not a valid opening interval`)
  }
  return [from, to]
}

const MAX_DAYS = 800

// Open intervals per calendar and local date: every triage asks (is it open now, when does it
// open, when is the deadline), and building them means time-zone arithmetic.
const intervalCache = new WeakMap<Calendar, Map<string, Interval[]>>()

function openIntervalsOn(calendar: Calendar, day: DateTime): Interval[] {
  const date = day.toISODate()!
  let byDate = intervalCache.get(calendar)
  if (!byDate) {
    byDate = new Map()
    intervalCache.set(calendar, byDate)
  }
  const known = byDate.get(date)
  if (known) return known
  const intervals = intervalsOn(calendar, day, date)
  if (byDate.size >= 4000) byDate.clear()
  byDate.set(date, intervals)
  return intervals
}

function intervalsOn(calendar: Calendar, day: DateTime, date: string): Interval[] {
  if (calendar.holidays.has(date)) return []
  const weekday = WEEKDAYS[day.weekday - 1]!
  const midnight = day.startOf('day')
  return calendar.hours[weekday].map(([from, to]) =>
    Interval.fromDateTimes(midnight.plus({ minutes: from }), midnight.plus({ minutes: to })),
  )
}

export function isOpen(calendar: Calendar, at: Date): boolean {
  if (calendar.alwaysOpen) return true
  const local = DateTime.fromJSDate(at, { zone: zoneNamed(calendar.timezone) })
  return openIntervalsOn(calendar, local).some((i) => i.contains(local))
}

/** The first moment at or after `at` when the business is open (null if never within ~2 years). */
export function nextOpen(calendar: Calendar, at: Date): Date | null {
  if (calendar.alwaysOpen) return at
  let day = DateTime.fromJSDate(at, { zone: zoneNamed(calendar.timezone) })
  const start = day
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const interval of openIntervalsOn(calendar, day)) {
      if (interval.end! > start)
        return (interval.start! > start ? interval.start! : start).toJSDate()
    }
    day = day.plus({ days: 1 }).startOf('day')
  }
  return null
}

/**
 * The moment `durationMs` of open business time after `from` ("48 horas hábiles" starting
 * Friday 20:00 counts Friday 20:00–21:00, then Saturday's hours, then Monday's…). Wall-clock
 * intervals are built in the calendar's timezone, so daylight-saving changes come out right.
 */
export function addBusinessTime(calendar: Calendar, from: Date, durationMs: number): Date {
  if (calendar.alwaysOpen || durationMs <= 0)
    return new Date(from.getTime() + Math.max(0, durationMs))
  let remaining = durationMs
  let cursor = DateTime.fromJSDate(from, { zone: zoneNamed(calendar.timezone) })
  let day = cursor
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const interval of openIntervalsOn(calendar, day)) {
      if (interval.end! <= cursor) continue
      const begin = interval.start! > cursor ? interval.start! : cursor
      const available = interval.end!.toMillis() - begin.toMillis()
      if (available >= remaining) return new Date(begin.toMillis() + remaining)
      remaining -= available
      cursor = interval.end!
    }
    day = day.plus({ days: 1 }).startOf('day')
  }
  throw new Error(`calendar ${calendar.id}: not enough open hours within ${MAX_DAYS} days`)
}

/** Open business time between two moments, in milliseconds (for reports and catch-up). */
export function businessTimeBetween(calendar: Calendar, from: Date, to: Date): number {
  if (to <= from) return 0
  if (calendar.alwaysOpen) return to.getTime() - from.getTime()
  const range = Interval.fromDateTimes(
    DateTime.fromJSDate(from, { zone: zoneNamed(calendar.timezone) }),
    DateTime.fromJSDate(to, { zone: zoneNamed(calendar.timezone) }),
  )
  let total = 0
  let day = range.start!.startOf('day')
  for (let i = 0; i < MAX_DAYS && day < range.end!; i++) {
    for (const interval of openIntervalsOn(calendar, day)) {
      const overlap = interval.intersection(range)
      if (overlap) total += overlap.toDuration().toMillis()
    }
    day = day.plus({ days: 1 }).startOf('day')
  }
  return total
}

const MINUTE = 60_000
const described = new Map<string, string>()

/**
 * "el lunes 23 de noviembre a las 9:00" / "on Monday, November 23 at 9:00". The wording only
 * changes from minute to minute, so recent answers are kept (time zone arithmetic is costly
 * and every acknowledgement asks for one).
 */
export function describeMoment(
  at: Date,
  calendar: Calendar,
  language: 'es' | 'en',
  now: Date,
): string {
  const atMinute = Math.floor(at.getTime() / MINUTE)
  const key = `${calendar.id}|${calendar.timezone}|${language}|${atMinute}|${Math.floor(now.getTime() / MINUTE)}`
  const known = described.get(key)
  if (known !== undefined) return known
  const text = describeMinute(new Date(atMinute * MINUTE), calendar, language, now)
  if (described.size >= 1000) described.clear()
  described.set(key, text)
  return text
}

function describeMinute(at: Date, calendar: Calendar, language: 'es' | 'en', now: Date): string {
  const local = DateTime.fromJSDate(at, { zone: zoneNamed(calendar.timezone) }).setLocale(language)
  const today = DateTime.fromJSDate(now, { zone: zoneNamed(calendar.timezone) })
  const sameDay = local.hasSame(today, 'day')
  const tomorrow = local.hasSame(today.plus({ days: 1 }), 'day')
  if (language === 'es') {
    const time = local.toFormat("'a las' H:mm")
    if (sameDay) return `hoy ${time}`
    if (tomorrow) return `mañana ${time}`
    return `el ${local.toFormat("cccc d 'de' LLLL")} ${time}`
  }
  const time = local.toFormat("'at' H:mm")
  if (sameDay) return `today ${time}`
  if (tomorrow) return `tomorrow ${time}`
  return `on ${local.toFormat('cccc, LLLL d')} ${time}`
}

export { WEEKDAYS }
