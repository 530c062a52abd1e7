import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DateTime } from 'luxon'
import { isNode, LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { parseInterval } from '../../calendar/business-hours.js'
import { holidaysFromICal } from '../../calendar/ical-holidays.js'
import { PATTERN_INPUT_LIMIT } from '../match-terms.js'
import { patternDangers } from './pattern-safety.js'
import { BusinessFile, RULEBOOK_FILES, type RulebookSource } from './schema.js'

const BUSINESS_FILE = 'business.yaml'

/**
 * What each staff inbox accepts as a queue's and a priority's settings (`inbox.<channel id>`),
 * from the channels' adapters. Without it, those settings are not checked here (the inbox
 * checks them when it uses them).
 */
export type InboxSchemas = ReadonlyMap<string, { queue: z.ZodType; priority: z.ZodType }>

/** One problem in a rulebook, located so a person can fix it. */
export type RulebookIssue = { file: string; line: number; field: string; message: string }

export type LoadResult =
  | { ok: true; source: RulebookSource; version: string }
  | { ok: false; issues: RulebookIssue[] }

type ParsedFile = {
  file: string
  data: unknown
  lineOf: (path: readonly PropertyKey[]) => number
}

function readYaml(dir: string, file: string, issues: RulebookIssue[]): ParsedFile | null {
  const path = join(dir, file)
  if (!existsSync(path)) {
    issues.push({ file, line: 0, field: '', message: 'file is missing' })
    return null
  }
  const text = readFileSync(path, 'utf8')
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const line = lineCounter.linePos(error.pos[0]).line
      issues.push({
        file,
        line,
        field: '',
        message: error.message.split('\n')[0] ?? 'invalid YAML',
      })
    }
    return null
  }
  const lineOf = (fieldPath: readonly PropertyKey[]): number => {
    // Walk up the path until a node exists: a missing field is reported at its parent.
    for (let depth = fieldPath.length; depth >= 0; depth--) {
      const node = doc.getIn(fieldPath.slice(0, depth) as unknown[], true)
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line
    }
    return 1
  }
  return { file, data: doc.toJS() ?? {}, lineOf }
}

export function formatField(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('')
}

function validate<T extends z.ZodType>(
  parsed: ParsedFile,
  schema: T,
  issues: RulebookIssue[],
): z.infer<T> | null {
  const result = schema.safeParse(parsed.data)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    issues.push({
      file: parsed.file,
      line: parsed.lineOf(issue.path),
      field: formatField(issue.path),
      message: issue.message,
    })
  }
  return null
}

/** Checks that need more than one file or a compiler: references and regular expressions. */
function crossCheck(
  source: RulebookSource,
  files: Record<string, ParsedFile>,
  issues: RulebookIssue[],
  inboxes: InboxSchemas | undefined,
): void {
  const at = (file: string, path: PropertyKey[], message: string) =>
    issues.push({
      file,
      line: files[file]?.lineOf(path) ?? 0,
      field: formatField(path),
      message,
    })
  const queues = new Set(Object.keys(source.queues.queues))
  if (!queues.has(source.settings.default_queue)) {
    at('settings.yaml', ['default_queue'], `unknown queue "${source.settings.default_queue}"`)
  }
  source.routing.rules.forEach((rule, i) => {
    if (rule.then.queue && !queues.has(rule.then.queue)) {
      at('routing.yaml', ['rules', i, 'then', 'queue'], `unknown queue "${rule.then.queue}"`)
    }
  })
  for (const level of ['L1', 'L2', 'L3'] as const) {
    const owner = source.escalation.levels[level].owner
    if (!queues.has(owner)) {
      at('escalation.yaml', ['levels', level, 'owner'], `unknown queue "${owner}"`)
    }
  }
  for (const required of ['ack', 'out_of_hours']) {
    if (!source.templates.templates[required]) {
      at('templates.yaml', ['templates'], `template "${required}" is required`)
    }
  }
  // A reply a rule asks for must have its words (an FAQ answer needs none: it is the answer).
  source.routing.rules.forEach((rule, i) => {
    const reply = rule.then.reply
    if (reply && reply !== 'none' && reply !== 'faq' && !source.templates.templates[reply]) {
      at(
        'routing.yaml',
        ['rules', i, 'then', 'reply'],
        `reply "${reply}" needs a template "${reply}" in templates.yaml`,
      )
    }
  })
  for (const priority of ['critica', 'alta', 'media', 'baja'] as const) {
    if (!source.priorities.priorities[priority]) {
      at('priorities.yaml', ['priorities'], `priority "${priority}" is required`)
    }
  }
  if (inboxes) {
    const check = (file: string, path: PropertyKey[], settings: Record<string, unknown>) => {
      for (const [inbox, value] of Object.entries(settings)) {
        const schemas = inboxes.get(inbox)
        if (!schemas) {
          at(
            file,
            [...path, inbox],
            `no staff inbox "${inbox}" (known: ${[...inboxes.keys()].join(', ') || 'none'})`,
          )
          continue
        }
        const schema = file === 'queues.yaml' ? schemas.queue : schemas.priority
        const result = schema.safeParse(value)
        if (!result.success)
          for (const issue of result.error.issues)
            at(file, [...path, inbox, ...issue.path], issue.message)
      }
    }
    for (const [id, queue] of Object.entries(source.queues.queues))
      check('queues.yaml', ['queues', id, 'inbox'], queue.inbox)
    for (const [id, priority] of Object.entries(source.priorities.priorities))
      if (priority) check('priorities.yaml', ['priorities', id, 'inbox'], priority.inbox)
  }
  const compiled: { source: string; path: PropertyKey[]; file: string }[] = []
  const termFiles = [
    ['intents.yaml', source.intents],
    ...(source.business ? [[BUSINESS_FILE, source.business] as const] : []),
  ] as const
  for (const [file, terms] of termFiles) {
    for (const group of ['intents', 'signals', 'acts'] as const) {
      for (const [id, target] of Object.entries(terms[group])) {
        for (const lang of ['es', 'en'] as const) {
          target?.[lang].patterns.forEach((entry, i) => {
            const pattern = typeof entry === 'string' ? entry : entry.term
            const path = [group, id, lang, 'patterns', i]
            try {
              new RegExp(pattern)
              compiled.push({ source: pattern, path, file })
            } catch (err) {
              at(file, path, (err as Error).message)
            }
          })
        }
      }
    }
  }
  // Patterns read customers' text: one that can backtrack would let a message stall the hub
  // (a 28-character one took 15 s on a message).
  const dangers = patternDangers(
    compiled.map((p) => ({ source: p.source, flags: 'g', limit: PATTERN_INPUT_LIMIT })),
  )
  compiled.forEach((p, i) => {
    if (dangers[i]) at(p.file, p.path, dangers[i])
  })
}

function checkCalendars(
  dir: string,
  source: RulebookSource,
  files: Record<string, ParsedFile>,
  issues: RulebookIssue[],
): void {
  const at = (path: PropertyKey[], message: string) =>
    issues.push({
      file: 'calendars.yaml',
      line: files['calendars.yaml']?.lineOf(path) ?? 0,
      field: formatField(path),
      message,
    })
  const ids = new Set(Object.keys(source.calendars.calendars))
  for (const [id, calendar] of Object.entries(source.calendars.calendars)) {
    if ('always_open' in calendar) continue
    if (!DateTime.local().setZone(calendar.timezone).isValid)
      at(['calendars', id, 'timezone'], `unknown timezone "${calendar.timezone}"`)
    for (const [day, intervals] of Object.entries(calendar.hours)) {
      intervals.forEach((interval, i) => {
        try {
          parseInterval(interval)
        } catch (err) {
          at(['calendars', id, 'hours', day, i], (err as Error).message)
        }
      })
    }
    if (calendar.holidays_file) {
      try {
        holidaysFromICal(readFileSync(join(dir, calendar.holidays_file), 'utf8'), 2100)
      } catch (err) {
        at(
          ['calendars', id, 'holidays_file'],
          `cannot read ${calendar.holidays_file}: ${(err as Error).message}`,
        )
      }
    }
  }
  for (const [channel, calendar] of Object.entries(source.calendars.channels)) {
    if (!ids.has(calendar)) at(['channels', channel], `unknown calendar "${calendar}"`)
  }
  if (!ids.has(source.calendars.default))
    at(['default'], `unknown calendar "${source.calendars.default}"`)
}

/** Reads and validates every file of the rulebook in `dir`. Never throws for bad content. */
export function loadRulebookSource(dir: string, inboxes?: InboxSchemas): LoadResult {
  const issues: RulebookIssue[] = []
  const files: Record<string, ParsedFile> = {}
  const values: Record<string, unknown> = {}
  const hash = createHash('sha256')
  for (const [file, schema] of Object.entries(RULEBOOK_FILES)) {
    const parsed = readYaml(dir, file, issues)
    if (!parsed) continue
    files[file] = parsed
    hash.update(file).update(JSON.stringify(parsed.data))
    const value = validate(parsed, schema, issues)
    if (value !== null) values[file] = value
  }
  // The business's own vocabulary, when there is one.
  if (existsSync(join(dir, BUSINESS_FILE))) {
    const parsed = readYaml(dir, BUSINESS_FILE, issues)
    if (parsed) {
      files[BUSINESS_FILE] = parsed
      hash.update(BUSINESS_FILE).update(JSON.stringify(parsed.data))
      const value = validate(parsed, BusinessFile, issues)
      if (value !== null) values[BUSINESS_FILE] = value
    }
  }
  if (issues.length > 0) return { ok: false, issues }
  const source: RulebookSource = {
    settings: values['settings.yaml'] as RulebookSource['settings'],
    intents: values['intents.yaml'] as RulebookSource['intents'],
    routing: values['routing.yaml'] as RulebookSource['routing'],
    queues: values['queues.yaml'] as RulebookSource['queues'],
    priorities: values['priorities.yaml'] as RulebookSource['priorities'],
    templates: values['templates.yaml'] as RulebookSource['templates'],
    faq: values['faq.yaml'] as RulebookSource['faq'],
    calendars: values['calendars.yaml'] as RulebookSource['calendars'],
    escalation: values['escalation.yaml'] as RulebookSource['escalation'],
    business: (values[BUSINESS_FILE] as RulebookSource['business'] | undefined) ?? null,
  }
  crossCheck(source, files, issues, inboxes)
  checkCalendars(dir, source, files, issues)
  if (issues.length > 0) return { ok: false, issues }
  // Holiday files are part of the rulebook: a change to one is a new version.
  for (const calendar of Object.values(source.calendars.calendars)) {
    if ('holidays_file' in calendar && calendar.holidays_file) {
      hash.update(readFileSync(join(dir, calendar.holidays_file)))
    }
  }
  return { ok: true, source, version: hash.digest('hex').slice(0, 12) }
}

export function formatIssues(issues: readonly RulebookIssue[]): string {
  return issues
    .map((i) => `${i.file}:${i.line}${i.field ? ` ${i.field}` : ''}: ${i.message}`)
    .join('\n')
}
