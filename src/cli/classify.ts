import { createInterface } from 'node:readline'
import { z } from 'zod'
import { AuthorRole } from '../contracts/message.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { type IntentClassifier, triage } from '../triage/triage.js'

const JsonLine = z.object({
  text: z.string(),
  channel: z.string().optional(),
  role: AuthorRole.optional(),
})

/** The contract of `centralita classify`: one object per input, in input order. */
export function classifyOne(
  input: { text: string; channel?: string; role?: z.infer<typeof AuthorRole> },
  rulebook: Rulebook,
  classifier: IntentClassifier | null,
) {
  const d = triage(
    { text: input.text, channel: input.channel ?? null, role: input.role ?? 'customer' },
    rulebook,
    classifier,
  )
  return {
    intent: d.intent,
    confidence: d.confidence,
    priority: d.priority,
    level: d.level,
    signals: d.signals,
    amount: d.amount,
    language: d.language,
    explanation: d.explanation,
  }
}

/**
 * Reads stdin line by line: plain text (one message per non-empty line) or, with `jsonl`,
 * JSON lines `{"text", "channel"?, "role"?}`. A bad line yields `{"error"}` in its place.
 */
export async function classifyStream(
  input: NodeJS.ReadableStream,
  write: (line: string) => void,
  options: { jsonl: boolean; rulebook: Rulebook; classifier: IntentClassifier | null },
): Promise<number> {
  let failures = 0
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  for await (const line of lines) {
    if (line.trim() === '') continue
    if (!options.jsonl) {
      write(JSON.stringify(classifyOne({ text: line }, options.rulebook, options.classifier)))
      continue
    }
    let parsed: z.infer<typeof JsonLine>
    try {
      const result = JsonLine.safeParse(JSON.parse(line))
      if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'invalid line')
      parsed = result.data
    } catch (err) {
      failures++
      write(JSON.stringify({ error: `invalid input line: ${(err as Error).message}` }))
      continue
    }
    write(JSON.stringify(classifyOne(parsed, options.rulebook, options.classifier)))
  }
  return failures
}
