/**
 * The all-day dates of the events in an iCalendar file (RFC 5545): enough of the format to
 * read a holiday calendar exported from Google Calendar or Outlook. Multi-day events give
 * every day they cover; `RRULE:FREQ=YEARLY` repeats an event every year up to `untilYear`.
 * Returns ISO dates (YYYY-MM-DD). Throws on a file that is not an iCalendar.
 */
export function holidaysFromICal(text: string, untilYear: number): string[] {
  // Unfold continuation lines (a line starting with a space or tab continues the previous one).
  const lines = text
    .replace(/\r\n/g, '\n')
    .replace(/\n[ \t]/g, '')
    .split('\n')
  if (!lines.some((l) => l.trim() === 'BEGIN:VCALENDAR')) throw new Error('not an iCalendar file')
  const dates = new Set<string>()
  let event: { start?: string; end?: string; yearly?: boolean } | null = null
  for (const raw of lines) {
    const line = raw.trim()
    if (line === 'BEGIN:VEVENT') event = {}
    else if (line === 'END:VEVENT' && event) {
      for (const day of expand(event, untilYear)) dates.add(day)
      event = null
    } else if (event) {
      const [name = '', value = ''] = splitProperty(line)
      if (name === 'DTSTART') event.start = dateOf(value)
      else if (name === 'DTEND') event.end = dateOf(value)
      else if (name === 'RRULE' && /(^|;)FREQ=YEARLY(;|$)/.test(value)) event.yearly = true
    }
  }
  return [...dates].sort()
}

function splitProperty(line: string): [string, string] {
  const colon = line.indexOf(':')
  if (colon < 0) return ['', '']
  const name = line.slice(0, colon).split(';')[0]!.toUpperCase()
  return [name, line.slice(colon + 1)]
}

function dateOf(value: string): string | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(value)
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined
}

function* expand(
  event: { start?: string; end?: string; yearly?: boolean },
  untilYear: number,
): Generator<string> {
  if (!event.start) return
  const first = new Date(`${event.start}T00:00:00Z`)
  // DTEND of an all-day event is exclusive; without one the event is a single day.
  const end = event.end
    ? new Date(`${event.end}T00:00:00Z`)
    : new Date(first.getTime() + 86_400_000)
  const days = Math.max(1, Math.round((end.getTime() - first.getTime()) / 86_400_000))
  const lastYear = event.yearly ? untilYear : first.getUTCFullYear()
  for (let year = first.getUTCFullYear(); year <= lastYear; year++) {
    for (let d = 0; d < days; d++) {
      const day = new Date(Date.UTC(year, first.getUTCMonth(), first.getUTCDate() + d))
      yield day.toISOString().slice(0, 10)
    }
  }
}
