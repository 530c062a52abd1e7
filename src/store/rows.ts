import { getTableColumns } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import * as schema from './schema.js'
import type { Row } from './sql.js'

/**
 * A table's rows in hand-written SQL: its columns for a SELECT (`select('m')`: every column,
 * named by its field, `m.external_id as "externalId"`; with a prefix, several tables' rows
 * in one result; with no alias, for a RETURNING clause, which takes unqualified names) and
 * the reading of a result row back into the table's row type. Booleans come back as 0/1 from
 * SQLite and as booleans from PostgreSQL: both read as booleans.
 */
export function tableRows<Table extends SQLiteTable>(table: Table) {
  const columns = Object.entries(getTableColumns(table)).map(([field, column]) => ({
    field,
    name: column.name,
    boolean: column.dataType === 'boolean',
  }))
  return {
    select: (alias: string, prefix = '') =>
      columns
        .map((c) => `${alias ? `${alias}.` : ''}${c.name} as "${prefix}${c.field}"`)
        .join(', '),
    /** Its columns in order, for `values` queries (read back with `readValues`). */
    columns: (alias: string) => columns.map((c) => `${alias}.${c.name}`).join(', '),
    /** How many columns `columns` lists. */
    width: columns.length,
    /** The row from a `values` result, its columns starting at `at`. */
    readValues(values: readonly unknown[], at = 0): Table['$inferSelect'] {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < columns.length; i++) {
        const { field, boolean } = columns[i]!
        const value = values[at + i]
        out[field] = boolean && value !== null && value !== undefined ? Boolean(value) : value
      }
      return out as Table['$inferSelect']
    },
    read(row: Row, prefix = ''): Table['$inferSelect'] {
      const out: Record<string, unknown> = {}
      for (const { field, boolean } of columns) {
        const value = row[prefix ? prefix + field : field]
        out[field] = boolean && value !== null && value !== undefined ? Boolean(value) : value
      }
      return out as Table['$inferSelect']
    },
  }
}

export const messageRows = tableRows(schema.messages)
export const conversationRows = tableRows(schema.conversations)
export const contactRows = tableRows(schema.contacts)
export const decisionRows = tableRows(schema.triageDecisions)
export const ticketRows = tableRows(schema.tickets)
export const escalationRows = tableRows(schema.escalations)
export const auditRows = tableRows(schema.auditLog)
