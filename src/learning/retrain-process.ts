import { closeDatabase, openDatabase, sqlOf } from '../store/db.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { retrain } from './retrain.js'

// A retrain in a process of its own (`run-retrain.ts` starts it for the console and the
// schedule): training takes seconds of CPU and a few hundred MB that the hub never holds.
// Reads its job as JSON from argv, prints the outcome as JSON.

const job = JSON.parse(process.argv[2] ?? '{}') as {
  databasePath: string
  corpusDir: string
  rulesDir: string
  by: string
}
const db = openDatabase(job.databasePath)
try {
  const outcome = await retrain(sqlOf(db), {
    corpusDir: job.corpusDir,
    rulebook: loadRulebook(job.rulesDir),
    by: job.by,
    now: () => Date.now(),
  })
  process.stdout.write(`${JSON.stringify(outcome)}\n`)
} finally {
  closeDatabase(db)
}
