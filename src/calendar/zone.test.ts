import { DateTime } from 'luxon'
import { describe, expect, it } from 'vitest'
import { zoneNamed } from './zone.js'

describe('zoneNamed', () => {
  // Days with a change of offset: Chile (midnight changes), Spain (01:00 UTC), Nepal (+05:45),
  // Lord Howe (half-hour DST), and an ordinary day.
  const cases: [string, string][] = [
    ['America/Santiago', '2026-04-04T12:00:00Z'],
    ['America/Santiago', '2026-09-05T12:00:00Z'],
    ['Europe/Madrid', '2026-03-29T00:00:00Z'],
    ['Europe/Madrid', '2026-10-25T00:00:00Z'],
    ['Asia/Kathmandu', '2026-06-01T00:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T12:00:00Z'],
    ['America/Mexico_City', '2026-11-21T00:00:00Z'],
  ]

  it.each(cases)('gives %s the same local times as luxon around %s', (zone, around) => {
    const start = Date.parse(around) - 24 * 3_600_000
    for (let t = start; t < start + 48 * 3_600_000; t += 7 * 60_000) {
      const remembered = DateTime.fromMillis(t, { zone: zoneNamed(zone) })
      const plain = DateTime.fromMillis(t, { zone })
      expect(remembered.toISO()).toBe(plain.toISO())
    }
    // Local wall times back to instants, including ones in a gap or an overlap.
    for (let minute = 0; minute < 48 * 60; minute += 13) {
      const wall = DateTime.fromMillis(start, { zone }).startOf('day').plus({ minutes: minute })
      const fields = {
        year: wall.year,
        month: wall.month,
        day: wall.day,
        hour: wall.hour,
        minute: wall.minute,
      }
      expect(DateTime.fromObject(fields, { zone: zoneNamed(zone) }).toMillis()).toBe(
        DateTime.fromObject(fields, { zone }).toMillis(),
      )
    }
  })

  it('reports a zone that does not exist as invalid, as luxon does', () => {
    expect(DateTime.fromMillis(0, { zone: zoneNamed('Mars/Olympus') }).isValid).toBe(false)
  })
})
