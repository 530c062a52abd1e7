import type { Outcome } from '../service/kit.js'
import { statusOf } from '../service/kit.js'

/** An admin operation refused what a console page asked: the page says why, with its status. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** What the operation gave, or a `Refused` for the console's page handler to show. */
export function take<T>(result: Outcome<T>): T {
  if ('body' in result) return result.body
  throw new Refused(statusOf(result), result.reason)
}
