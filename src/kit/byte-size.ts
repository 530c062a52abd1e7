import { z } from 'zod'

/** A size in bytes, as a number or with a unit: 1048576, 512kb, 1mb, 2GiB. */
export const ByteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(value)
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'expected a size such as 1048576, 512kb or 1mb' })
    return z.NEVER
  }
  const unit = (match[2] ?? 'b').toLowerCase()
  const factor = unit.startsWith('g')
    ? 1024 ** 3
    : unit.startsWith('m')
      ? 1024 ** 2
      : unit.startsWith('k')
        ? 1024
        : 1
  return Math.round(Number(match[1]) * factor)
})
