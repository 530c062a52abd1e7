import { z } from 'zod'
import { ACTS, INTENTS, LEVELS, PRIORITIES, SIGNALS, TICKET_TYPES } from './ids.js'

export { ACTS, INTENTS, LEVELS, PRIORITIES, SIGNALS, TICKET_TYPES }

export const IntentId = z.enum(INTENTS)
export type IntentId = z.infer<typeof IntentId>

export const SignalId = z.enum(SIGNALS)
export type SignalId = z.infer<typeof SignalId>

export const ActId = z.enum(ACTS)
export type ActId = z.infer<typeof ActId>

export const Priority = z.enum(PRIORITIES)
export type Priority = z.infer<typeof Priority>

export const Level = z.enum(LEVELS)
export type Level = z.infer<typeof Level>

export const TicketType = z.enum(TICKET_TYPES)
export type TicketType = z.infer<typeof TicketType>

/** "15m", "4h", "2d", "90s" → milliseconds. */
export const Duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(s|m|h|d)$/, 'expected a duration such as 15m, 4h or 2d')
  .transform((value) => {
    const amount = Number.parseFloat(value)
    const unit = value.trim().slice(-1)
    const factor =
      unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000
    return Math.round(amount * factor)
  })
