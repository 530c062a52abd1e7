import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { persistAtOnce } from './ingest-at-once.js'
import { migratePostgres, numbered, openPostgres, type PostgresStore } from './postgres.js'
import type { Sql, SqlValue } from './sql.js'
import { claimTriagePart, triageBacklog } from './triage-queue.js'
import { readAhead } from './triage-reads.js'

// The plans PostgreSQL keeps for the statements that run for every stored batch and every
// triage slice (a prepared statement's generic plan, made for any values). They find each
// message's contact and conversation by key also while those tables are small: a plain join
// is planned for the ten rows PostgreSQL assumes an `unnest` gives, and against a table of a
// few hundred rows that plan read all of it and hashed it, a few hundred microseconds a
// statement. And the batch's statement keeps its plan however small the batches: planned for
// a batch of one delivery's values, it looked cheaper than the kept plan, and was planned
// again for every batch (docs/performance.md).

type Seen = { text: string; params: readonly SqlValue[] }

/** A door that keeps the statements it runs. (The door's methods do not use `this`.) */
function recording(sql: Sql, seen: Seen[]): Sql {
  const kept = <F extends (text: string, params?: readonly SqlValue[]) => unknown>(run: F): F =>
    ((text: string, params?: readonly SqlValue[]) => {
      seen.push({ text, params: params ?? [] })
      return run(text, params)
    }) as F
  return {
    ...sql,
    all: kept(sql.all),
    values: kept(sql.values),
    get: kept(sql.get),
    run: kept(sql.run),
  }
}

/** A value as a literal of SQL, bound as the door binds it (a boolean as 1 or 0). */
function literal(value: SqlValue): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (Array.isArray(value)) {
    const items = value.map((v) =>
      v === null ? 'NULL' : `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`,
    )
    return literal(`{${items.join(',')}}`)
  }
  return `'${String(value).replace(/'/g, "''")}'`
}

/** The plan PostgreSQL keeps for a prepared statement, made for any values (its generic plan). */
async function genericPlan(pg: PostgresStore, { text, params }: Seen): Promise<string> {
  const client = await pg.pool.connect()
  try {
    await client.query('set plan_cache_mode = force_generic_plan')
    await client.query(`prepare probe as ${numbered(text)}`)
    const plan = await client.query(`explain execute probe(${params.map(literal).join(', ')})`)
    return plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')
  } finally {
    await client.query('deallocate all')
    client.release()
  }
}

/** The generic plan of a prepared statement, run (`explain analyze`). */
async function analysedPlan(pg: PostgresStore, { text, params }: Seen): Promise<string> {
  const client = await pg.pool.connect()
  try {
    await client.query('set plan_cache_mode = force_generic_plan')
    await client.query(`prepare probe as ${numbered(text)}`)
    const plan = await client.query(
      `explain (analyze, timing off) execute probe(${params.map(literal).join(', ')})`,
    )
    return plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')
  } finally {
    await client.query('deallocate all')
    client.release()
  }
}

/** Messages for triage, one a row of `select` (external id, conversation, contact). */
async function insertMessages(pg: PostgresStore, select: string): Promise<void> {
  await pg.sql.run(
    `insert into messages (channel, external_id, conversation_id, contact_id, direction,
         author_role, text, attachments, automated, triage, meta, sent_at, received_at, raw_hash)
       select 'chatwoot', e, c, k, 'inbound', 'contact', 'hola', '[]', 0, 1, '{}', 0, 0, 'h'
         from (${select}) as rows (e, c, k)`,
  )
}

/** How often the one connection planned a prepared statement for its values, and not. */
const plansOf = (pg: PostgresStore, like: string) =>
  pg.sql.get<{ generic: number; custom: number }>(
    `select generic_plans as generic, custom_plans as custom from pg_prepared_statements
      where statement like ?`,
    [like],
  )

/** The reply caps' windows a slice reads at `now`. */
const windowsAt = (now: Date) => ({
  since: now.getTime() - 3_600_000,
  onceADaySince: now.getTime() - 86_400_000,
})

describeWithService('postgres', 'the plans kept for the batch and the triage slice', () => {
  const postgres = postgresForSuite()

  /** A business's first 400 people, each with a conversation and a message, analysed. */
  async function small(max = 2): Promise<PostgresStore> {
    const pg = openPostgres(postgres.database(), { max })
    await migratePostgres(pg.sql)
    await pg.sql.run(
      `insert into contacts (channel, external_id, created_at, updated_at)
         select 'chatwoot', '1:' || n, 0, 0 from generate_series(1, 400) as n`,
    )
    await pg.sql.run(
      `insert into conversations (channel, external_id, contact_id, created_at, updated_at)
         select 'chatwoot', '1:' || id, id, 0, 0 from contacts`,
    )
    await insertMessages(pg, `select 'm' || id, id, contact_id from conversations`)
    await pg.sql.run('analyze')
    return pg
  }

  it('seek contacts and conversations by key when a batch is stored', async () => {
    const pg = await small()
    try {
      const seen: Seen[] = []
      const d = storedDelivery('d1', 'new-1', 'una pregunta')
      Object.assign(d.messages[0]!, { conversationExternalId: '1:7', contactExternalId: '1:7' })
      const results = await persistAtOnce(recording(pg.sql, seen), [
        { delivery: d, now: new Date() },
      ])
      expect(results?.map((r) => r.outcome)).toEqual(['stored'])
      const plan = await genericPlan(pg, seen[0]!)
      expect(plan).toContain('Index Scan using contacts_channel_external on contacts')
      expect(plan).toContain('Index Scan using conversations_channel_external on conversations')
      expect(plan).not.toMatch(/Seq Scan on (contacts|conversations)/)
    } finally {
      await pg.close()
    }
  })

  it('keep the batch statement planned for any values, however small the batches', async () => {
    // One connection: the statement is prepared, and planned, on it alone.
    const pg = await small(1)
    try {
      for (let i = 1; i <= 20; i++) {
        const d = storedDelivery(`d${i}`, `new-${i}`, 'una pregunta')
        Object.assign(d.messages[0]!, {
          conversationExternalId: `1:${i}`,
          contactExternalId: `1:${i}`,
        })
        await persistAtOnce(pg.sql, [{ delivery: d, now: new Date() }])
      }
      const plans = await plansOf(pg, '%insert into webhook_deliveries%')
      // PostgreSQL plans a statement for its values its first five times.
      expect(plans).toEqual({ generic: 15, custom: 5 })
    } finally {
      await pg.close()
    }
  })

  it('seek contacts and conversations by key when a triage slice claims a part and reads it', async () => {
    const pg = await small()
    try {
      const seen: Seen[] = []
      const claimed = await pg.sql.transaction((tx) =>
        claimTriagePart(recording(tx, seen), new Date(), 0),
      )
      expect(claimed?.read?.length).toBeGreaterThan(0)
      const plan = await genericPlan(pg, seen[0]!)
      expect(plan).toContain('Index Scan using contacts_pkey on contacts')
      expect(plan).toContain('Index Scan using conversations_pkey on conversations')
      expect(plan).not.toMatch(/Seq Scan on (contacts|conversations)/)
    } finally {
      await pg.close()
    }
  })

  it("keep the triage claim planned for any values, whatever the slice's clock", async () => {
    const pg = await small(1)
    try {
      const start = Date.parse('2026-11-21T12:00:00Z')
      for (let i = 0; i < 20; i++) {
        // Each slice reads its clock, and the reply caps' windows from it.
        const now = new Date(start + i * 1000)
        const windows = windowsAt(now)
        await pg.sql.transaction((tx) => claimTriagePart(tx, now, i, windows))
      }
      const plans = await plansOf(pg, '%with claimed as materialized%')
      expect(plans).toEqual({ generic: 15, custom: 5 })
    } finally {
      await pg.close()
    }
  })

  it('look at a part that has been idle by its index, not through every message since', async () => {
    // Conversations 1–400, a message each, all triaged (each part's cursor past its messages);
    // then 4,000 more in the conversations of parts 0–6, triaged too. Part 7 has been idle
    // since its last message: every message past its cursor is another part's.
    const pg = await small()
    try {
      await insertMessages(
        pg,
        `select 'later-' || n || '-' || c.id, c.id, c.contact_id
           from generate_series(1, 10) as n, conversations c where c.id % 8 <> 7`,
      )
      await pg.sql.run(
        `insert into channel_state (key, value, updated_at)
           select 'triage:cursor:' || (conversation_id % 8), max(id)::text, 0
             from messages group by conversation_id % 8`,
      )
      // One new message, in part 0.
      await insertMessages(pg, `select 'new', 8, 8`)
      await pg.sql.run('analyze')
      const seen: Seen[] = []
      const now = new Date()
      const windows = windowsAt(now)
      // Claimed from part 7 on: part 7 is looked at first, and has nothing.
      const claimed = await pg.sql.transaction((tx) =>
        claimTriagePart(recording(tx, seen), now, 7, windows),
      )
      expect(claimed?.part).toBe(0)
      expect(claimed?.read).toHaveLength(1)
      // A slice's later read of the idle part (it asks for messages past its cursor).
      const cursor = await pg.sql.get<{ value: string }>(
        "select value from channel_state where key = 'triage:cursor:7'",
      )
      await readAhead(recording(pg.sql, seen), Number(cursor?.value), 8, 7, windows)
      // The backlog the admission counts: the one new message.
      expect(await triageBacklog(recording(pg.sql, seen))).toBe(1)
      for (const statement of seen) {
        const rows = await analysedPlan(pg, statement)
        // Rows read and thrown away by a filter, over the whole plan: the other parts' messages.
        const thrown = [...rows.matchAll(/Rows Removed by Filter: (\d+)/g)].reduce(
          (n, m) => n + Number(m[1]),
          0,
        )
        expect(thrown, rows).toBeLessThan(50)
      }
    } finally {
      await pg.close()
    }
  })

  it('run a transaction that asks for it on kept plans from the first run', async () => {
    const pg = await small(1)
    try {
      const now = new Date()
      const claims = (keptPlans: boolean) =>
        pg.sql.transaction((tx) => claimTriagePart(tx, now, 0, windowsAt(now)), { keptPlans })
      for (let i = 0; i < 3; i++) await claims(false)
      expect(await plansOf(pg, '%with claimed as materialized%')).toEqual({ generic: 0, custom: 3 })
      // Asked for (the triage slice does), the plan for any values from then on: made once.
      for (let i = 0; i < 3; i++) await claims(true)
      expect(await plansOf(pg, '%with claimed as materialized%')).toEqual({ generic: 3, custom: 3 })
      // The setting ends with its transaction.
      const mode = await pg.sql.get<{ mode: string }>(
        "select current_setting('plan_cache_mode') as mode",
      )
      expect(mode?.mode).toBe('auto')
    } finally {
      await pg.close()
    }
  })
})
