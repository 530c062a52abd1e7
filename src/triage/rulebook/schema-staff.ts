import { z } from 'zod'
import { Duration, Priority } from './schema-base.js'

// The rulebook's staff side: queues, priorities and their SLA, escalation levels, templates and
// the knowledge base.

/** Settings for each staff inbox, by channel id: their meaning is the inbox's. */
export const InboxSettings = z.record(z.string().min(1), z.unknown()).default({})

export const QueuesFile = z
  .object({
    queues: z.record(
      z.string().regex(/^[a-z0-9_-]+$/, 'queue ids use lower-case letters, digits, - and _'),
      z
        .object({
          name: z.string().min(1),
          /**
           * The queue in each staff inbox, by the inbox's channel id (`chatwoot: { team: … }`):
           * what each setting means is the inbox's (its adapter checks them).
           */
          inbox: InboxSettings,
          /** Mailbox of the team when it works from email. */
          email: z.email().optional(),
          /** Who is alerted for this queue (escalations, SLA warnings): emails and phones (E.164). */
          contacts: z
            .object({
              emails: z.array(z.email()).default([]),
              phones: z
                .array(z.string().regex(/^\+\d{6,15}$/, 'a phone number like +56912345678'))
                .default([]),
            })
            .strict()
            .default({ emails: [], phones: [] }),
        })
        .strict(),
    ),
  })
  .strict()

export const PrioritiesFile = z
  .object({
    priorities: z.record(
      Priority,
      z
        .object({
          first_response: Duration,
          resolution: Duration,
          /** The priority in each staff inbox, by the inbox's channel id (`chatwoot: urgent`). */
          inbox: InboxSettings,
          /** Count the SLA in business hours (true) or around the clock (false). */
          business_hours: z.boolean().default(false),
        })
        .strict(),
    ),
  })
  .strict()

export const NotifyVia = z.array(z.enum(['push', 'email', 'sms', 'call'])).default([])

export const EscalationLevel = z
  .object({
    /** The queue that owns cases at this level. */
    owner: z.string().min(1),
    /** Time the level has to take the case (accept it or answer the customer). */
    sla: Duration,
    business_hours: z.boolean().default(false),
    /** How the owner is told a case reached this level. */
    notify: NotifyVia,
  })
  .strict()

export const Warning = z.object({ before: Duration, notify: NotifyVia }).strict()

export const EscalationFile = z
  .object({
    levels: z.object({ L1: EscalationLevel, L2: EscalationLevel, L3: EscalationLevel }).strict(),
    /** Warn the level's owner this long before its SLA expires. */
    warn_before: z.object({ L1: Warning, L2: Warning, L3: Warning }).strict(),
    /** When a level's SLA expires: tell the next level (L3 → management) and escalate. */
    on_breach: z.object({ notify: NotifyVia, escalate: z.boolean().default(true) }).strict(),
    management: z
      .object({
        name: z.string().min(1),
        emails: z.array(z.email()).default([]),
        phones: z.array(z.string().regex(/^\+\d{6,15}$/)).default([]),
      })
      .strict(),
    /** Operators on an improvement plan: complaints about them start at L2. */
    improvement_plan: z.array(z.string().min(1)).default([]),
  })
  .strict()

export const Localized = z.object({ es: z.string().min(1), en: z.string().min(1) }).strict()

export const TemplatesFile = z
  .object({
    templates: z.record(z.string().regex(/^[a-z0-9_]+$/), Localized),
    /**
     * Canned answers people pick in the console's reply box (the hub never sends them on its
     * own): a title and the words, Spanish and English. `{{name}}` and `{{ticket}}` are filled.
     */
    canned: z
      .record(
        z.string().regex(/^[a-z0-9_]+$/),
        z.object({ title: Localized, es: z.string().min(1), en: z.string().min(1) }).strict(),
      )
      .default({}),
  })
  .strict()

export const FaqFile = z
  .object({
    faq: z.array(
      z
        .object({
          id: z.string().regex(/^[a-z0-9_-]+$/),
          questions: z
            .object({
              es: z.array(z.string().min(3)).default([]),
              en: z.array(z.string().min(3)).default([]),
            })
            .strict(),
          answer: Localized,
        })
        .strict(),
    ),
  })
  .strict()
