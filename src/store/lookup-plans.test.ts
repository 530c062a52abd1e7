import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, type Db, openDatabase } from './db.js'
import { countRecentComplaints, outOfHoursReplied } from './triage-store.js'

// Two lookups run for every triaged message and would otherwise read every decision row of a
// person's or a conversation's history. Each has a partial index, which SQLite uses only
// when the query's condition is the index's own, written out (a bound value does not match).
describe('per-message lookups', () => {
  let db: Db | null = null
  afterEach(() => {
    if (db) closeDatabase(db)
    db = null
  })

  /** The plan SQLite picks for the statement `run` prepares, with `params` bound. */
  const planOf = (run: (db: Db) => unknown, params: unknown[]) => {
    db = openDatabase(':memory:')
    const client = db.$client
    const prepare = client.prepare.bind(client)
    const seen: string[] = []
    client.prepare = ((source: string) => {
      seen.push(source)
      return prepare(source)
    }) as typeof client.prepare
    run(db)
    client.prepare = prepare
    const source = seen.find((s) => s.includes('triage_decisions'))!
    return prepare(`explain query plan ${source}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail)
      .join('\n')
  }

  it('counts recent complaints from the complaints index', () => {
    const contact = { id: 1, email: 'ana@example.cl', phone: null }
    const plan = planOf(
      (db) => countRecentComplaints(db, contact as never, 0),
      [1, 'ana@example.cl', null, 0],
    )
    expect(plan).toMatch(/USING INDEX triage_decisions_complaints/)
  })

  it('finds a recent out-of-hours reply from its own index', () => {
    const plan = planOf((db) => outOfHoursReplied(db, 1, 0), [1, 0])
    expect(plan).toMatch(/USING INDEX triage_decisions_out_of_hours/)
  })
})
