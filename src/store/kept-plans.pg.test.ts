import { expect, it } from 'vitest'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { persistAtOnce } from './ingest-at-once.js'
import { migratePostgres, numbered, openPostgres, type PostgresStore } from './postgres.js'
import type { Sql, SqlValue } from './sql.js'
import { claimTriagePart } from './triage-queue.js'

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
    await pg.sql.run(
      `insert into messages (channel, external_id, conversation_id, contact_id, direction,
           author_role, text, attachments, automated, triage, meta, sent_at, received_at, raw_hash)
         select 'chatwoot', 'm' || id, id, contact_id, 'inbound', 'contact', 'hola', '[]', 0, 1,
           '{}', 0, 0, 'h' from conversations`,
    )
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
      const plans = await pg.sql.get<{ generic: number; custom: number }>(
        `select generic_plans as generic, custom_plans as custom from pg_prepared_statements
          where statement like '%insert into webhook_deliveries%'`,
      )
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
})
