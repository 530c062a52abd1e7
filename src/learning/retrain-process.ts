import { databaseFrom } from '../config.js'
import { openStore } from '../store/open-store.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { retrainAlone } from './retrain.js'

// A retrain in a process of its own (`run-retrain.ts` starts it for the console and the
// schedule): training takes seconds of CPU and a few hundred MB that the hub never holds.
// Reads its job as JSON from argv (the database as a DATABASE_URL), prints the outcome as JSON.

const job = JSON.parse(process.argv[2] ?? '{}') as {
  database: string
  corpusDir: string
  rulesDir: string
  by: string
}
const store = await openStore(databaseFrom(job.database), { poolSize: 2 })
try {
  const outcome = await retrainAlone(store.sql, {
    corpusDir: job.corpusDir,
    rulebook: loadRulebook(job.rulesDir),
    by: job.by,
    now: () => Date.now(),
  })
  process.stdout.write(`${JSON.stringify(outcome)}\n`)
} finally {
  await store.close()
}
