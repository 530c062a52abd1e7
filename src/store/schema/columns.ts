import { sql } from 'drizzle-orm'
import { integer } from 'drizzle-orm/sqlite-core'

// Times are unix milliseconds (integers): cheap to compare and index, no timezone ambiguity.
export const createdAt = () =>
  integer('created_at').notNull().default(sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`)
