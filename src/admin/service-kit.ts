import { z } from 'zod'

// What every admin service module shares: its error, input and parsing.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** What a call gives the service: path parameters, query and body, as received. */
export type ServiceInput = {
  params: Record<string, string | string[] | undefined>
  query: unknown
  body: unknown
}

/** The value, or a 400 naming the first field that is wrong. */
export const parse = <T extends z.ZodType>(schema: T, value: unknown): z.infer<T> => {
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new HttpError(400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`)
  }
  return result.data
}

export const Id = z.coerce.number().int().positive()
export const By = z.string().min(1).max(200).default('admin')
