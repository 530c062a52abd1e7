import { join } from 'node:path'
import Database from 'better-sqlite3'
import { getTableName } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/helpers/hub.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import {
  closeDatabase,
  type Db,
  fixedLimit,
  openDatabase,
  rawRows,
  writeTransaction,
} from './db.js'
import { persistDelivery } from './ingest-store.js'
import { channelState, contacts, conversations, messages } from './schema.js'
import { loadTriageSubject, nextTicketNumber } from './triage-store.js'

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
    writeTransaction(first, (tx) => {
      expect(nextTicketNumber(tx, 2026, 2)).toBe('TK-2026-000002')
    })
    expect(nextTicketNumber(second, 2026, 2)).toBe('TK-2026-000002')
    // A rolled-back transaction undoes what the shared query did inside it.
    expect(() =>
      writeTransaction(second, (tx) => {
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

  it('write transactions: a nested one is a savepoint that rolls back alone', () => {
    const db = database()
    const taken = writeTransaction(db, (tx) => {
      expect(db.$client.inTransaction).toBe(true)
      const first = nextTicketNumber(tx, 2026, 1)
      expect(() =>
        writeTransaction(tx, (inner) => {
          nextTicketNumber(inner, 2026, 2)
          throw new Error('this one only')
        }),
      ).toThrow('this one only')
      // The savepoint's number was given back; the outer transaction's is kept.
      return [first, nextTicketNumber(tx, 2026, 3)]
    })
    expect(taken).toEqual(['TK-2026-000001', 'TK-2026-000002'])
    expect(db.$client.inTransaction).toBe(false)
    expect(nextTicketNumber(db, 2026, 4)).toBe('TK-2026-000003')
  })

  it('write transactions take the write lock at BEGIN, before their first write', () => {
    const temp = tempDir('centralita-lock-')
    try {
      const path = join(temp.dir, 'c.db')
      const db = openDatabase(path)
      open.push(db)
      const other = new Database(path)
      other.pragma('busy_timeout = 0')
      writeTransaction(db, () => {
        // Nothing written yet, and still no other connection may write until this one ends.
        expect(() => other.exec("insert into channel_state values ('k', 'v', 1)")).toThrow(
          /locked|busy/i,
        )
      })
      other.exec("insert into channel_state values ('k', 'v', 1)")
      other.close()
    } finally {
      temp.cleanup()
    }
  })

  it('keep savepoint journals and temporary tables in memory, never in temporary files', () => {
    // Each message is written in a savepoint inside a group commit or a triage slice; on disk,
    // that journal was half of the hub's writes (src/store/db.ts).
    expect(database().$client.pragma('temp_store', { simple: true })).toBe(2)
  })

  it('write a fixed limit into the SQL, where SQLite does not recompile the query for it', () => {
    const db = database()
    for (const key of ['a', 'b', 'c'])
      db.insert(channelState).values({ key, value: key, updatedAt: 0 }).run()
    const query = db
      .select({ key: channelState.key })
      .from(channelState)
      .orderBy(channelState.key)
      .limit(fixedLimit(2))
    expect(query.toSQL()).toMatchObject({ sql: expect.stringMatching(/ limit 2$/), params: [] })
    expect(query.all()).toEqual([{ key: 'a' }, { key: 'b' }])
    expect(() => fixedLimit(1.5)).toThrow(RangeError)
    expect(() => fixedLimit(-1)).toThrow(RangeError)
  })

  it('read raw rows into the same values drizzle gives, booleans and all', () => {
    const db = database()
    const stored = persistDelivery(db, storedDelivery('d-1', '1:1', 'hola'), new Date(5000))
    const id = stored.outcome === 'stored' ? stored.messageIds[0]! : 0
    for (const table of [messages, conversations, contacts]) {
      const reader = rawRows(table)
      const raw = db.$client.prepare(`select ${reader.columns('t')} from ${getTableName(table)} t`)
      expect(reader.read(raw.raw(true).get() as unknown[])).toEqual(db.select().from(table).get())
    }
    const subject = loadTriageSubject(db, id)!
    expect(subject.message).toMatchObject({ id, triage: true, automated: false, text: 'hola' })
    expect(typeof subject.message.triage).toBe('boolean')
    expect(subject.conversation.id).toBe(subject.message.conversationId)
    expect(subject.contact.id).toBe(subject.message.contactId)
    expect(loadTriageSubject(db, id + 1)).toBeNull()
  })
})
