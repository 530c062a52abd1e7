import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/helpers/hub.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { contactRows, conversationRows, messageRows } from './rows.js'
import { contacts, conversations, messages } from './schema.js'
import { loadTriageSubject, nextTicketNumber } from './triage-store.js'

describe('the store on SQLite', () => {
  const open: Db[] = []
  const database = () => {
    const db = openDatabase(':memory:')
    open.push(db)
    return db
  }
  afterEach(() => {
    for (const db of open.splice(0)) closeDatabase(db)
  })

  it('one door per connection: each connection keeps its own data', async () => {
    const first = sqlOf(database())
    const second = sqlOf(database())
    expect(await nextTicketNumber(first, 2026, 1)).toBe('TK-2026-000001')
    expect(await nextTicketNumber(second, 2026, 1)).toBe('TK-2026-000001')
    await first.transaction(async (tx) => {
      expect(await nextTicketNumber(tx, 2026, 2)).toBe('TK-2026-000002')
    })
    expect(await nextTicketNumber(second, 2026, 2)).toBe('TK-2026-000002')
    // A transaction whose body throws is rolled back.
    await expect(
      second.transaction(async (tx) => {
        await nextTicketNumber(tx, 2026, 3)
        throw new Error('undo')
      }),
    ).rejects.toThrow('undo')
    expect(await nextTicketNumber(second, 2026, 3)).toBe('TK-2026-000003')
  })

  it('a nested transaction is a savepoint that rolls back alone', async () => {
    const db = database()
    const sql = sqlOf(db)
    const taken = await sql.transaction(async (tx) => {
      expect(db.$client.inTransaction).toBe(true)
      const first = await nextTicketNumber(tx, 2026, 1)
      await expect(
        tx.transaction(async (inner) => {
          await nextTicketNumber(inner, 2026, 2)
          throw new Error('this one only')
        }),
      ).rejects.toThrow('this one only')
      // The savepoint's number was given back; the outer transaction's is kept.
      return [first, await nextTicketNumber(tx, 2026, 3)]
    })
    expect(taken).toEqual(['TK-2026-000001', 'TK-2026-000002'])
    expect(db.$client.inTransaction).toBe(false)
    expect(await nextTicketNumber(sql, 2026, 4)).toBe('TK-2026-000003')
  })

  it('while a transaction spans awaits, other statements wait for it to end', async () => {
    const sql = sqlOf(database())
    await sql.run("insert into channel_state values ('k', 'before', 1)")
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const writer = sql.transaction(async (tx) => {
      await tx.run("update channel_state set value = 'inside' where key = 'k'")
      await held
      await tx.run("update channel_state set value = 'committed' where key = 'k'")
    })
    // Another caller's read does not see the half-done transaction: it waits for the commit.
    const reader = sql.get<{ value: string }>("select value from channel_state where key = 'k'")
    const second = sql.transaction((tx) =>
      tx.get<{ value: string }>("select value from channel_state where key = 'k'"),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    release()
    await writer
    expect((await reader)?.value).toBe('committed')
    expect((await second)?.value).toBe('committed')
  })

  it('refuses a statement on the database from inside its own transaction', async () => {
    const sql = sqlOf(database())
    await expect(
      sql.transaction(async () => {
        await sql.get('select 1')
      }),
    ).rejects.toThrow(/use the tx/)
    await expect(
      sql.transaction(async () => {
        await sql.transaction(async () => undefined)
      }),
    ).rejects.toThrow(/use the tx/)
    // The connection is free again afterwards.
    expect(await sql.get('select 1 as one')).toEqual({ one: 1 })
  })

  it('transactions take the write lock at BEGIN, before their first write', async () => {
    const temp = tempDir('centralita-lock-')
    try {
      const path = join(temp.dir, 'c.db')
      const db = openDatabase(path)
      open.push(db)
      const other = new Database(path)
      other.pragma('busy_timeout = 0')
      await sqlOf(db).transaction(async () => {
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

  it('keeps savepoint journals and temporary tables in memory, never in temporary files', () => {
    // Each message is written in a savepoint inside a group commit or a triage slice; on disk,
    // that journal was half of the hub's writes.
    expect(database().$client.pragma('temp_store', { simple: true })).toBe(2)
  })

  it('reads rows by hand into the same values drizzle gives, booleans and all', async () => {
    const db = database()
    const sql = sqlOf(db)
    const stored = await persistDelivery(sql, storedDelivery('d-1', '1:1', 'hola'), new Date(5000))
    const id = stored.outcome === 'stored' ? stored.messageIds[0]! : 0
    for (const [reader, table, name] of [
      [messageRows, messages, 'messages'],
      [conversationRows, conversations, 'conversations'],
      [contactRows, contacts, 'contacts'],
    ] as const) {
      const row = await sql.get(`select ${reader.select('t')} from ${name} t`)
      expect(reader.read(row!)).toEqual(db.select().from(table).get())
    }
    const subject = (await loadTriageSubject(sql, id))!
    expect(subject.message).toMatchObject({ id, triage: true, automated: false, text: 'hola' })
    expect(typeof subject.message.triage).toBe('boolean')
    expect(subject.conversation.id).toBe(subject.message.conversationId)
    expect(subject.contact.id).toBe(subject.message.contactId)
    expect(await loadTriageSubject(sql, id + 1)).toBeNull()
  })
})
