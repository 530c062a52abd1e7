import { checkSync } from 'recheck'
import { type PatternQuestion, verdictOf } from './pattern-verdict.js'

// `pattern-safety.ts` runs this in a process of its own: recheck (a Scala.js build) costs a
// process some 70 MB that it never gives back, which the hub must not carry. It reads the
// patterns to check as JSON on stdin and writes one verdict per pattern, in order.

const chunks: Buffer[] = []
process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk))
process.stdin.on('end', () => {
  const questions = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PatternQuestion[]
  const verdicts = questions.map((q) => verdictOf(q, checkSync))
  process.stdout.write(JSON.stringify(verdicts))
})
