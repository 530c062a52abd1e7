import { z } from 'zod'
import type { ChannelEntry, ReplyTools, Source } from '../../contracts/channel.js'
import type { Clock } from '../../kit/clock.js'
import type { Logger } from '../../kit/logger.js'
import type { Retrainer } from '../../learning/run-retrain.js'
import type { Sql } from '../../store/sql.js'
import type { Rulebook } from '../../triage/rulebook/compile.js'
import { actorName, type Person } from '../people.js'

export type AdminApiDeps = {
  db: Sql
  clock: Clock
  logger: Logger
  token: string
  rulebook: () => Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  tools: ReplyTools
  sources: readonly Source[]
  /** New outbox effects were queued. */
  onEffects: () => void
  /** Tickets or escalations changed (the SLA clock reschedules). */
  onCasesChanged: () => void
  /** Retrains in a child process (the console's "Reentrenar"); absent, retraining is the CLI's. */
  retrainer?: Retrainer
}

/** What a call gives the service: path parameters, query and body, as received. */
export type ServiceInput = {
  params: Record<string, string | string[] | undefined>
  query: unknown
  body: unknown
  /**
   * Who asks, when a person signed in to the console does: they are named in the audit log
   * (over any `by` in the body) and their role decides what they may take or close. The JSON
   * API, behind the admin token, acts as admin.
   */
  actor?: Person
}

/**
 * How an admin operation ended. Expected endings are values: the JSON API maps them to HTTP
 * statuses in one switch (`api.ts`), the console to its pages.
 */
export type Outcome<T> =
  | { outcome: 'ok'; body: T }
  | { outcome: 'created'; body: T }
  | { outcome: 'accepted'; body: T }
  | { outcome: 'invalid'; reason: string }
  | { outcome: 'forbidden'; reason: string }
  | { outcome: 'not_found'; reason: string }
  | { outcome: 'conflict'; reason: string }
  | { outcome: 'failed'; reason: string }

export type Refusal = Exclude<Outcome<never>, { body: unknown }>

export const ok = <T>(body: T): Outcome<T> => ({ outcome: 'ok', body })
export const notFound = (reason: string): Refusal => ({ outcome: 'not_found', reason })
export const forbidden = (reason: string): Refusal => ({ outcome: 'forbidden', reason })
export const conflict = (reason: string): Refusal => ({ outcome: 'conflict', reason })
export const invalid = (reason: string): Refusal => ({ outcome: 'invalid', reason })

/** The input read by `schema`, or why it is not valid (its first wrong field). */
export function read<T extends z.ZodType>(
  schema: T,
  value: unknown,
): { ok: true; value: z.infer<T> } | { ok: false; refusal: Refusal } {
  const result = schema.safeParse(value)
  if (result.success) return { ok: true, value: result.data }
  const issue = result.error.issues[0]
  return {
    ok: false,
    refusal: invalid(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`),
  }
}

export const Id = z.coerce.number().int().positive()
export const By = z.string().min(1).max(200).default('admin')
/** Who the audit log names for a request: the signed-in person, else the body's `by`. */
export const authorOf = (req: ServiceInput, by: string): string =>
  req.actor ? actorName(req.actor) : by

export const json = (value: string | null) => (value ? (JSON.parse(value) as unknown) : null)

/** The HTTP status of each ending. */
const STATUS: Record<Outcome<unknown>['outcome'], number> = {
  ok: 200,
  created: 201,
  accepted: 202,
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  failed: 500,
}
export const statusOf = (result: Outcome<unknown>): number => STATUS[result.outcome]
