import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, type Db, openDatabase } from './db.js'
import { nextTicketNumber } from './triage-store.js'

describe('queries built once per connection', () => {
  const open: Db[] = []
  const database = () => {
    const db = openDatabase(':memory:')
    open.push(db)
    return db
  }
  afterEach(() => {
    for (const db of open.splice(0)) closeDatabase(db)
  })

  it('run on the connection they are called with, in or out of a transaction', () => {
    const first = database()
    const second = database()
    expect(nextTicketNumber(first, 2026, 1)).toBe('TK-2026-000001')
    expect(nextTicketNumber(second, 2026, 1)).toBe('TK-2026-000001')
    first.transaction((tx) => {
      expect(nextTicketNumber(tx, 2026, 2)).toBe('TK-2026-000002')
    })
    expect(nextTicketNumber(second, 2026, 2)).toBe('TK-2026-000002')
    // A rolled-back transaction undoes what the shared query did inside it.
    expect(() =>
      second.transaction((tx) => {
        nextTicketNumber(tx, 2026, 3)
        throw new Error('undo')
      }),
    ).toThrow('undo')
    expect(nextTicketNumber(second, 2026, 3)).toBe('TK-2026-000003')
  })

  it('work on a connection opened after another was closed', () => {
    const first = database()
    nextTicketNumber(first, 2026, 1)
    closeDatabase(first)
    expect(nextTicketNumber(database(), 2026, 1)).toBe('TK-2026-000001')
  })
})
