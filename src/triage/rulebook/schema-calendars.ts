import { z } from 'zod'

// Business hours and holidays.

export const Interval = z
  .string()
  .regex(/^\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}$/, 'expected an interval like 09:00-18:00')
export const IsoDate = z.union([
  z.iso.date(),
  z.date().transform((d) => d.toISOString().slice(0, 10)),
])

export const CalendarsFile = z
  .object({
    calendars: z.record(
      z.string().regex(/^[a-z0-9_-]+$/),
      z.union([
        z.object({ always_open: z.literal(true) }).strict(),
        z
          .object({
            timezone: z.string().min(1),
            hours: z
              .object({
                mon: z.array(Interval),
                tue: z.array(Interval),
                wed: z.array(Interval),
                thu: z.array(Interval),
                fri: z.array(Interval),
                sat: z.array(Interval),
                sun: z.array(Interval),
              })
              .strict(),
            holidays: z.array(IsoDate).default([]),
            /** An iCalendar file in the rulebook folder whose all-day events are holidays. */
            holidays_file: z
              .string()
              .regex(/^[\w.-]+\.ics$/, 'a .ics file name in the rulebook folder')
              .optional(),
          })
          .strict(),
      ]),
    ),
    channels: z.record(z.string(), z.string()).default({}),
    default: z.string(),
  })
  .strict()
