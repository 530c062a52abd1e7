import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Calendar, parseInterval, WEEKDAYS } from '../../calendar/business-hours.js'
import { holidaysFromICal } from '../../calendar/ical-holidays.js'
import { ConfigError } from '../../contracts/errors.js'
import { compileFaq, type FaqIndex } from '../faq-answerer.js'
import { compileTerms, type TermIndex } from '../match-terms.js'
import { formatIssues, type InboxSchemas, loadRulebookSource } from './load.js'
import { allTerms, type Priority, type RulebookSource } from './schema.js'

type Source = RulebookSource
export type Settings = Source['settings']
export type Queue = Source['queues']['queues'][string]
export type PrioritySettings = NonNullable<Source['priorities']['priorities'][Priority]>
export type Template = Source['templates']['templates'][string]
export type RoutingRule = Source['routing']['rules'][number]
export type Escalation = Source['escalation']

/**
 * A validated rulebook, compiled for matching. Immutable: a reload builds a new one. Read it
 * through its accessors; `source` is the files as read, for tools that show them.
 */
export type Rulebook = {
  version: string
  dir: string
  source: RulebookSource
  settings: Settings
  queues: Readonly<Record<string, Queue>>
  /** The queue `id`, if the rulebook has it. */
  queue(id: string): Queue | undefined
  /** A priority's targets (the four priorities are required: always there). */
  priority(id: Priority): PrioritySettings
  templates: Readonly<Record<string, Template>>
  /** The console's canned answers (`canned:` in templates.yaml). */
  canned: Source['templates']['canned']
  routing: readonly RoutingRule[]
  escalation: Escalation
  terms: TermIndex
  faq: FaqIndex
  /** The business calendar a channel follows. */
  calendarFor(channel: string | null): Calendar
  /** What staff inboxes accept in the rulebook, kept for reloads (see `InboxSchemas`). */
  inboxes?: InboxSchemas
}

function compileCalendars(source: RulebookSource, dir: string): Map<string, Calendar> {
  const untilYear = new Date().getUTCFullYear() + 5
  const out = new Map<string, Calendar>()
  for (const [id, spec] of Object.entries(source.calendars.calendars)) {
    if ('always_open' in spec) {
      const empty = Object.fromEntries(WEEKDAYS.map((d) => [d, []])) as unknown as Calendar['hours']
      out.set(id, { id, timezone: 'UTC', alwaysOpen: true, hours: empty, holidays: new Set() })
      continue
    }
    const holidays = new Set(spec.holidays)
    if (spec.holidays_file) {
      for (const day of holidaysFromICal(
        readFileSync(join(dir, spec.holidays_file), 'utf8'),
        untilYear,
      ))
        holidays.add(day)
    }
    const hours = Object.fromEntries(
      WEEKDAYS.map((d) => [d, spec.hours[d].map(parseInterval)]),
    ) as Calendar['hours']
    out.set(id, { id, timezone: spec.timezone, alwaysOpen: false, hours, holidays })
  }
  return out
}

export function compileRulebook(
  source: RulebookSource,
  version: string,
  dir: string,
  inboxes?: InboxSchemas,
): Rulebook {
  const calendars = compileCalendars(source, dir)
  const fallback = calendars.get(source.calendars.default)!
  const queues = source.queues.queues
  const priorities = source.priorities.priorities
  return {
    version,
    dir,
    source,
    settings: source.settings,
    queues,
    queue: (id) => (Object.hasOwn(queues, id) ? queues[id] : undefined),
    priority: (id) => priorities[id]!,
    templates: source.templates.templates,
    canned: source.templates.canned,
    routing: source.routing.rules,
    escalation: source.escalation,
    ...(inboxes ? { inboxes } : {}),
    terms: (() => {
      const terms = allTerms(source)
      return compileTerms(terms.intents, terms.signals, terms.acts)
    })(),
    faq: compileFaq(source.faq),
    calendarFor: (channel) =>
      (channel ? calendars.get(source.calendars.channels[channel] ?? '') : undefined) ?? fallback,
  }
}

/** Loads and compiles the rulebook in `dir`; throws a ConfigError listing every problem. */
export function loadRulebook(dir: string, inboxes?: InboxSchemas): Rulebook {
  const loaded = loadRulebookSource(dir, inboxes)
  if (!loaded.ok)
    throw new ConfigError(`invalid rulebook in ${dir}:\n${formatIssues(loaded.issues)}`)
  return compileRulebook(loaded.source, loaded.version, dir, inboxes)
}
