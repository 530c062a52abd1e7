import type { Request, Response } from 'express'
import type { Urgency } from '../../cases/case-rules.js'
import type { Source } from '../../contracts/channel.js'
import type { Sql } from '../../store/sql.js'
import type { RulebookSource } from '../../triage/rulebook/watch-rulebook.js'
import type { IntentClassifier } from '../../triage/triage.js'
import type { Person } from '../people.js'
import type { AdminService } from '../service/index.js'
import type { Safe } from './html.js'
import type { Lang } from './i18n.js'

/**
 * What every page of the console is given: the page frame, the handler that turns a refusal
 * into a page, formatting, who is signed in, and the hub's parts the pages read. Each page is a
 * function `(router, kit)` that adds its routes.
 */
export type PageKit = {
  page(
    res: Response,
    lang: Lang,
    options: { title: string; here?: string; status?: number; flash?: string | null },
    body: Safe,
  ): void
  handle(
    fn: (req: Request, res: Response, lang: Lang) => unknown,
  ): (req: Request, res: Response) => Promise<void>
  when(ms: number | null, lang: Lang): string
  /** Who is signed in (kept with what they do). */
  actorOf(res: Response): string
  /** The signed-in person (the admin token counts as an admin). */
  personOf(res: Response): Person
  /** The people with accounts, as the audit log names them (for assignment). */
  people(): Promise<string[]>
  timezone(): string
  now(): number
  db: Sql
  service: AdminService
  queues(): string[]
  /** An urgency as a coloured label. */
  pill(urgency: Urgency | null, lang: Lang): Safe | string
  /** The SLA timer: time left, or overdue by how much, coloured by urgency. */
  timer(due: number | null, lang: Lang): Safe
  /** The message of what the last form did (`?done=`), if any. */
  flashOf(req: Request, lang: Lang): string | null
  rules: RulebookSource
  classifier: () => IntentClassifier | null
  sources: readonly Source[]
}

/** "2 h 05 min" / "3 d 4 h". */
export function span(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  const mins = minutes % 60
  if (days > 0) return `${days} d ${hours} h`
  if (hours > 0) return `${hours} h ${String(mins).padStart(2, '0')} min`
  return `${mins} min`
}
