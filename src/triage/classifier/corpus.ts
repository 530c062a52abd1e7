import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { IntentId, SignalId } from '../rulebook/schema.js'

/** One labelled example of the training corpus (`data/corpus/<intent>.jsonl`). */
export const CorpusRow = z
  .object({
    text: z.string().min(1),
    lang: z.enum(['es', 'en']),
    intent: IntentId,
    signals: z.array(SignalId).optional(),
    /** Where a row not written for this project came from (dataset and row id). */
    source: z.string().optional(),
  })
  .strict()
export type CorpusRow = z.infer<typeof CorpusRow>

export type Corpus = { rows: CorpusRow[]; hash: string }

/**
 * Reads every `*.jsonl` file of the corpus. A bad line stops with its file and line number:
 * the corpus is code-reviewed data, never silently half-read.
 */
export function loadCorpus(dir: string): Corpus {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
  if (files.length === 0) throw new Error(`no corpus files (*.jsonl) in ${dir}`)
  const hash = createHash('sha256')
  const rows: CorpusRow[] = []
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    hash.update(file).update(text)
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`)
      }
      const parsed = CorpusRow.safeParse(value)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw new Error(
          `${file}:${i + 1}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid row'}`,
        )
      }
      rows.push(parsed.data)
    })
  }
  return { rows, hash: hash.digest('hex') }
}

/** Share of the corpus held out for evaluation, chosen by a hash of the text (stable). */
export const HELD_OUT_PERCENT = 20

export function isHeldOut(row: Pick<CorpusRow, 'text'>): boolean {
  const digest = createHash('sha256').update(row.text).digest()
  return digest.readUInt32BE(0) % 100 < HELD_OUT_PERCENT
}

export function splitCorpus(rows: readonly CorpusRow[]): { train: CorpusRow[]; test: CorpusRow[] } {
  const train: CorpusRow[] = []
  const test: CorpusRow[] = []
  for (const row of rows) (isHeldOut(row) ? test : train).push(row)
  return { train, test }
}
