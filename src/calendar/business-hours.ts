import { DateTime } from 'luxon'
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

/**
 * One local day of a calendar, as instants (unix ms): where it starts and ends (23 or 25 hours
 * long on a daylight-saving change) and its open intervals, [open, close).
 */
type Day = { start: number; end: number; open: readonly (readonly [number, number])[] }

/** Days already built, per calendar, keyed by their start, and the few asked for last. */
type DayCache = { byStart: Map<number, Day>; recent: Day[] }
const dayCache = new WeakMap<Calendar, DayCache>()
const RECENT_DAYS = 16

/**
 * The calendar's local day containing `at`. Every triage asks (is it open now, when does it
 * open, when are the deadlines); building a day is time-zone arithmetic, finding it again is
 * a few comparisons. Walks go forward day by day, from a day's end to the next day's start,
 * so days are also kept by their start.
 */
function dayAt(calendar: Calendar, at: number): Day {
  let cache = dayCache.get(calendar)
  if (!cache) {
    cache = { byStart: new Map(), recent: [] }
    dayCache.set(calendar, cache)
  }
  for (const day of cache.recent) if (day.start <= at && at < day.end) return day
  let day = cache.byStart.get(at)
  if (!day) {
    day = buildDay(calendar, at)
    if (cache.byStart.size >= 4000) cache.byStart.clear()
    cache.byStart.set(day.start, day)
  }
  cache.recent.unshift(day)
  if (cache.recent.length > RECENT_DAYS) cache.recent.pop()
  return day
}

function buildDay(calendar: Calendar, at: number): Day {
  const zone = zoneNamed(calendar.timezone)
  const midnight = DateTime.fromMillis(at, { zone }).startOf('day')
  const next = midnight.plus({ days: 1 })
  const end = next.toMillis()
  const date = midnight.toISODate()!
  if (calendar.holidays.has(date)) return { start: midnight.toMillis(), end, open: [] }
  // Opening times are wall-clock times: built from the local date, not by adding minutes to
  // midnight, so "09:00" is 9:00 on the day the clocks change too. "24:00" is the day's end.
  const local = (minutes: number) =>
    minutes >= 24 * 60
      ? end
      : DateTime.fromObject(
          {
            year: midnight.year,
            month: midnight.month,
            day: midnight.day,
            hour: Math.floor(minutes / 60),
            minute: minutes % 60,
          },
          { zone },
        ).toMillis()
  const open = calendar.hours[WEEKDAYS[midnight.weekday - 1]!]
    .map(([from, to]) => [local(from), local(to)] as const)
    .filter(([from, to]) => from < to)
  return { start: midnight.toMillis(), end, open }
}

export function isOpen(calendar: Calendar, at: Date): boolean {
  if (calendar.alwaysOpen) return true
  const ms = at.getTime()
  return dayAt(calendar, ms).open.some(([from, to]) => from <= ms && ms < to)
}

/** The first moment at or after `at` when the business is open (null if never within ~2 years). */
export function nextOpen(calendar: Calendar, at: Date): Date | null {
  if (calendar.alwaysOpen) return at
  const start = at.getTime()
  let day = dayAt(calendar, start)
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const [from, to] of day.open) {
      if (to > start) return new Date(Math.max(from, start))
    }
    day = dayAt(calendar, day.end)
  }
  return null
}

/**
 * The moment `durationMs` of open business time after `from` ("48 horas hábiles" starting
 * Friday 20:00 counts Friday 20:00–21:00, then Saturday's hours, then Monday's…). Opening
 * times are taken in the calendar's timezone, so daylight-saving changes come out right.
 */
export function addBusinessTime(calendar: Calendar, from: Date, durationMs: number): Date {
  if (calendar.alwaysOpen || durationMs <= 0)
    return new Date(from.getTime() + Math.max(0, durationMs))
  let remaining = durationMs
  const cursor = from.getTime()
  let day = dayAt(calendar, cursor)
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const [open, close] of day.open) {
      if (close <= cursor) continue
      const begin = Math.max(open, cursor)
      const available = close - begin
      if (available >= remaining) return new Date(begin + remaining)
      remaining -= available
    }
    day = dayAt(calendar, day.end)
  }
  throw new Error(`calendar ${calendar.id}: not enough open hours within ${MAX_DAYS} days`)
}

/** Open business time between two moments, in milliseconds (for reports and catch-up). */
export function businessTimeBetween(calendar: Calendar, from: Date, to: Date): number {
  const [start, end] = [from.getTime(), to.getTime()]
  if (end <= start) return 0
  if (calendar.alwaysOpen) return end - start
  let total = 0
  let day = dayAt(calendar, start)
  for (let i = 0; i < MAX_DAYS && day.start < end; i++) {
    for (const [open, close] of day.open) {
      total += Math.max(0, Math.min(close, end) - Math.max(open, start))
    }
    day = dayAt(calendar, day.end)
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
