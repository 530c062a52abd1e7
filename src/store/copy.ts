import { getTableColumns, getTableName } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import * as schema from './schema.js'
import type { Sql, SqlValue } from './sql.js'

/** Every table, parents before the tables that refer to them. */
const TABLES: SQLiteTable[] = [
  schema.contacts,
  schema.conversations,
  schema.webhookDeliveries,
  schema.messages,
  schema.jobs,
  schema.triageDecisions,
  schema.tickets,
  schema.escalations,
  schema.outbox,
  schema.auditLog,
  schema.consoleUsers,
  schema.consoleSessions,
  schema.corrections,
  schema.classifierModels,
  schema.channelState,
  schema.slaEvents,
]

const BATCH = 500

/**
 * Copies every row of one hub database into another, empty one (`centralita db copy`, to move
 * an install from SQLite to PostgreSQL): table by table, in batches, each table in one
 * transaction of the target. Ids are kept, and the target's id sequences are moved past them.
 * Returns the rows copied per table.
 */
export async function copyDatabase(
  from: Sql,
  to: Sql,
  onTable: (table: string, rows: number) => void = () => {},
): Promise<Record<string, number>> {
  const known = await to.get<{ n: number }>('select count(*) as n from messages')
  if (Number(known?.n ?? 0) > 0) throw new Error('the target database already has messages')
  const copied: Record<string, number> = {}
  for (const table of TABLES) {
    const name = getTableName(table)
    const fields = getTableColumns(table)
    const columns = Object.values(fields).map((c) => c.name)
    // A number id is an identity column on PostgreSQL (a text id, such as a session's, is not).
    const identity = fields.id?.dataType === 'number'
    const list = columns.map((c) => `"${c}"`).join(', ')
    const key = columns.includes('id') ? '"id"' : `"${columns[0]}"`
    let total = 0
    await to.transaction(async (tx) => {
      for (let offset = 0; ; offset += BATCH) {
        const rows = await from.values(
          `select ${list} from ${name} order by ${key} limit ? offset ?`,
          [BATCH, offset],
        )
        if (rows.length === 0) break
        const row = `(${columns.map(() => '?').join(', ')})`
        await tx.run(
          `insert into ${name} (${list}) values ${rows.map(() => row).join(', ')}`,
          rows.flat() as SqlValue[],
        )
        total += rows.length
        if (rows.length < BATCH) break
      }
      if (to.dialect === 'postgres' && identity)
        await tx.get(
          `select setval(pg_get_serial_sequence('${name}', 'id'), coalesce(max(id), 0) + 1, false)
             from ${name}`,
        )
    })
    copied[name] = total
    onTable(name, total)
  }
  return copied
}
