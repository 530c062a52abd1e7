import { describe, expect, it } from 'vitest'
import {
  addBusinessTime,
  businessTimeBetween,
  type Calendar,
  describeMoment,
  isOpen,
  nextOpen,
  parseInterval,
} from './business-hours.js'
import { holidaysFromICal } from './ical-holidays.js'

const H = 3_600_000
const week = (intervals: string[], saturday: string[] = [], sunday: string[] = []) => ({
  mon: intervals.map(parseInterval),
  tue: intervals.map(parseInterval),
  wed: intervals.map(parseInterval),
  thu: intervals.map(parseInterval),
  fri: intervals.map(parseInterval),
  sat: saturday.map(parseInterval),
  sun: sunday.map(parseInterval),
})

// The shipped website-chat calendar: Mon–Fri 9–21, Sat 9–18, Santiago time.
const web: Calendar = {
  id: 'web',
  timezone: 'America/Santiago',
  alwaysOpen: false,
  hours: week(['09:00-21:00'], ['09:00-18:00']),
  holidays: new Set(['2026-12-25']),
}
// Split shifts, Madrid time (a different DST rule).
const split: Calendar = {
  id: 'split',
  timezone: 'Europe/Madrid',
  alwaysOpen: false,
  hours: week(['09:00-13:00', '15:00-19:00']),
  holidays: new Set(),
}

describe('addBusinessTime', () => {
  it.each([
    // Santiago is UTC−3 in November (summer time).
    ['inside hours, same day', web, '2026-11-20T13:00:00Z', 2 * H, '2026-11-20T15:00:00Z'],
    [
      '"48 horas hábiles" from Friday 20:00 local: Fri 1 h, Sat 9 h, Mon–Wed 36 h, Thu 2 h',
      web,
      '2026-11-20T23:00:00Z',
      48 * H,
      '2026-11-26T14:00:00Z',
    ],
    [
      'from Friday 20:00, 4 h runs into Saturday',
      web,
      '2026-11-20T23:00:00Z',
      4 * H,
      '2026-11-21T15:00:00Z',
    ],
    [
      'starting on a Sunday waits for Monday 9:00',
      web,
      '2026-11-22T15:00:00Z',
      1 * H,
      '2026-11-23T13:00:00Z',
    ],
    [
      'skips a holiday (Christmas, a Friday)',
      web,
      '2026-12-24T23:30:00Z',
      1 * H,
      '2026-12-26T12:30:00Z',
    ],
    [
      'split shift: jumps the lunch break',
      split,
      '2026-11-18T11:30:00Z',
      2 * H,
      '2026-11-18T15:30:00Z',
    ],
    [
      'split shift: from the evening to next morning',
      split,
      '2026-11-18T17:00:00Z',
      3 * H,
      '2026-11-19T10:00:00Z',
    ],
  ])('%s', (_name, calendar, from, ms, expected) => {
    expect(addBusinessTime(calendar, new Date(from), ms).toISOString()).toBe(
      new Date(expected).toISOString(),
    )
  })

  it('keeps local opening times across a daylight-saving change', () => {
    // Santiago moves its clocks forward on the night of Saturday 5 to Sunday 6 September 2026:
    // Saturday 9:00 is 13:00 UTC (UTC−4), Monday 9:00 is 12:00 UTC (UTC−3).
    const friday = new Date('2026-09-05T00:30:00Z') // Friday 20:30 local
    expect(addBusinessTime(web, friday, 1 * H).toISOString()).toBe('2026-09-05T13:30:00.000Z')
    expect(addBusinessTime(web, friday, 0.5 * H + 9 * H + 1 * H).toISOString()).toBe(
      '2026-09-07T13:00:00.000Z',
    )
    // Madrid moves its clocks back on 25 October 2026: Monday 9:00 is 08:00 UTC.
    const madridFriday = new Date('2026-10-23T16:00:00Z') // Friday 18:00 local (UTC+2)
    expect(addBusinessTime(split, madridFriday, 2 * H).toISOString()).toBe(
      '2026-10-26T09:00:00.000Z',
    )
  })

  it('opens at the local opening time on the day the clocks change', () => {
    // Madrid moves its clocks forward at 02:00 on Sunday 29 March 2026: 9:00 that morning is
    // 07:00 UTC (UTC+2), not midnight (UTC+1) plus nine hours. "24:00" closes at midnight.
    const sundays: Calendar = {
      ...split,
      hours: { ...split.hours, sun: [parseInterval('09:00-13:00'), parseInterval('20:00-24:00')] },
    }
    expect(isOpen(sundays, new Date('2026-03-29T06:30:00Z'))).toBe(false)
    expect(isOpen(sundays, new Date('2026-03-29T07:30:00Z'))).toBe(true)
    expect(nextOpen(sundays, new Date('2026-03-29T06:30:00Z'))?.toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    )
    // 13:00 local is 11:00 UTC; one more hour waits for 20:00 (18:00 UTC).
    expect(addBusinessTime(sundays, new Date('2026-03-29T10:30:00Z'), 1 * H).toISOString()).toBe(
      '2026-03-29T18:30:00.000Z',
    )
    // The evening shift runs to local midnight: 22:00 UTC.
    expect(
      businessTimeBetween(
        sundays,
        new Date('2026-03-29T00:00:00Z'),
        new Date('2026-03-30T06:00:00Z'),
      ),
    ).toBe(8 * H)
  })

  it('is the plain sum of milliseconds for an always-open calendar', () => {
    const always: Calendar = { ...web, alwaysOpen: true }
    expect(addBusinessTime(always, new Date('2026-11-21T03:00:00Z'), 4 * H).toISOString()).toBe(
      '2026-11-21T07:00:00.000Z',
    )
  })
})

describe('isOpen / nextOpen', () => {
  it.each([
    ['Friday 12:00 local', '2026-11-20T15:00:00Z', true, '2026-11-20T15:00:00Z'],
    [
      'Friday 21:00 local (closing time is closed)',
      '2026-11-21T00:00:00Z',
      false,
      '2026-11-21T12:00:00Z',
    ],
    ['Saturday 18:30 local', '2026-11-21T21:30:00Z', false, '2026-11-23T12:00:00Z'],
    ['Christmas day', '2026-12-25T15:00:00Z', false, '2026-12-26T12:00:00Z'],
  ])('%s', (_name, at, open, next) => {
    expect(isOpen(web, new Date(at))).toBe(open)
    expect(nextOpen(web, new Date(at))?.toISOString()).toBe(new Date(next).toISOString())
  })
})

describe('businessTimeBetween', () => {
  it('counts only open time', () => {
    // Friday 20:00 → Monday 10:00 local: 1 h Friday + 9 h Saturday + 1 h Monday.
    expect(
      businessTimeBetween(web, new Date('2026-11-20T23:00:00Z'), new Date('2026-11-23T13:00:00Z')),
    ).toBe(11 * H)
  })
})

describe('describeMoment', () => {
  const now = new Date('2026-11-20T23:00:00Z') // Friday 20:00 local
  it('says today, tomorrow or the date, in Spanish and English', () => {
    expect(describeMoment(new Date('2026-11-21T12:00:00Z'), web, 'es', now)).toBe(
      'mañana a las 9:00',
    )
    expect(describeMoment(new Date('2026-11-23T12:00:00Z'), web, 'es', now)).toBe(
      'el lunes 23 de noviembre a las 9:00',
    )
    expect(describeMoment(new Date('2026-11-23T12:00:00Z'), web, 'en', now)).toBe(
      'on Monday, November 23 at 9:00',
    )
  })
})

describe('holidaysFromICal', () => {
  it('reads single, multi-day and yearly all-day events', () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20260918',
      'DTEND;VALUE=DATE:20260920',
      'RRULE:FREQ=YEARLY',
      'SUMMARY:Fiestas Patrias',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'DTSTART:20261012T000000',
      'SUMMARY:Encuentro',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n')
    expect(holidaysFromICal(ics, 2027)).toEqual([
      '2026-09-18',
      '2026-09-19',
      '2026-10-12',
      '2027-09-18',
      '2027-09-19',
    ])
  })

  it('refuses a file that is not an iCalendar', () => {
    expect(() => holidaysFromICal('hello', 2027)).toThrow('not an iCalendar file')
  })
})

describe('parseInterval', () => {
  it('reads HH:MM-HH:MM and refuses nonsense', () => {
    expect(parseInterval('09:00-13:30')).toEqual([540, 810])
    expect(parseInterval('18:00-24:00')).toEqual([1080, 1440])
    expect(() => parseInterval('13:00-09:00')).toThrow()
    expect(() => parseInterval('9 to 5')).toThrow()
  })
})
