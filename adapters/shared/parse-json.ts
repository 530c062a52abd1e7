/** JSON.parse as a value: a malformed body is an expected outcome (400), not an exception. */
export function parseJson(
  raw: Buffer,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (raw.length === 0) return { ok: false, reason: 'empty body' }
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) }
  } catch {
    return { ok: false, reason: 'malformed JSON' }
  }
}

/** A short reason naming the first offending field, without echoing any value. */
export function describeZodError(error: {
  issues: readonly { path: PropertyKey[]; message: string }[]
}): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid payload'
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body'
  return `${path}: ${issue.message}`.slice(0, 200)
}
