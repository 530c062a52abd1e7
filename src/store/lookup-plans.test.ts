import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { pendingJobCount } from './jobs.js'
import { automaticRepliesSince } from './reply-caps-store.js'
import type { Sql } from './sql.js'
import { triageBacklog } from './triage-queue.js'
import { loadUndecided } from './triage-reads.js'
import { countRecentComplaints } from './triage-store.js'

// Lookups that run for every triaged message (or every webhook admission) and would otherwise
// read a whole history: every decision of a person or a conversation, every job ever run. The
// two decision lookups have partial indexes, which SQLite uses only when the query's condition
// is the index's own, written out (a bound value does not match).
describe('per-message lookups', () => {
  let db: Db | null = null
  afterEach(() => {
    if (db) closeDatabase(db)
    db = null
  })

  /** The plan SQLite picks for the statement `run` prepares, with `params` bound. */
  const planOf = async (
    run: (db: Sql) => Promise<unknown>,
    params: unknown[],
    statement = /triage_decisions|from jobs/,
  ) => {
    db = openDatabase(':memory:')
    const client = db.$client
    const prepare = client.prepare.bind(client)
    const seen: string[] = []
    client.prepare = ((source: string) => {
      seen.push(source)
      return prepare(source)
    }) as typeof client.prepare
    await run(sqlOf(db))
    client.prepare = prepare
    const source = seen.find((s) => statement.test(s))!
    return prepare(`explain query plan ${source}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail)
      .join('\n')
  }

  it('counts recent complaints from the complaints index', async () => {
    const contact = { id: 1, email: 'ana@example.cl', phone: null }
    const plan = await planOf(
      (db) => countRecentComplaints(db, contact as never, 0),
      [1, 'ana@example.cl', null, 0],
    )
    expect(plan).toMatch(/USING INDEX triage_decisions_complaints/)
  })

  it('finds a recent once-a-day reply (out-of-hours, welcome) from its own index', async () => {
    const plan = await planOf(
      (db) => automaticRepliesSince(db, { conversationId: 1, recipient: 'a@b.cl' }, 0, 0),
      [1, 0, 1, 1, 0, 'a@b.cl', 1, 0, 1, 0],
    )
    const searches = plan
      .split('\n')
      .filter((line) => line.includes('SEARCH') && line.includes('triage_decisions'))
    expect(searches).toHaveLength(2)
    for (const search of searches) expect(search).toMatch(/USING INDEX triage_decisions_once_a_day/)
  })

  it('asks whether an open case had a more urgent message from the index alone', async () => {
    const plan = await planOf((db) => loadUndecided(db, 1), [1])
    const probes = plan
      .split('\n')
      .filter((line) => line.includes('triage_decisions_conversation_priority'))
    expect(probes).toHaveLength(4)
    for (const probe of probes) {
      expect(probe).toMatch(
        /SEARCH u USING COVERING INDEX triage_decisions_conversation_priority \(conversation_id=\? AND priority=\? AND created_at>\?\)/,
      )
    }
    // The message's case is found from the conversation's tickets, not from every ticket.
    expect(plan).toMatch(/SEARCH t USING INDEX tickets_conversation/)
  })

  it('counts the triage backlog from the due index, not from every job kept', async () => {
    const plan = await planOf((db) => pendingJobCount(db, 'triage'), ['triage'])
    expect(plan).toMatch(/USING (COVERING )?INDEX jobs_due/)
  })

  it('reads the messages waiting for triage as a range of the primary key', async () => {
    const plan = await planOf((db) => triageBacklog(db), [0, 1], /from messages/)
    expect(plan).toMatch(/USING INTEGER PRIMARY KEY \(rowid>\?\)/)
  })
})
