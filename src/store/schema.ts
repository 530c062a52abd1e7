// The database's tables, one file per part of the hub (drizzle-kit reads them from here).
export * from './schema/cases.js'
export * from './schema/learning.js'
export * from './schema/messages.js'
export * from './schema/operations.js'
