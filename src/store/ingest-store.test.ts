import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import { contacts, conversations } from './schema.js'
import type { Sql } from './sql.js'

// A known contact or conversation is read, not rewritten, for every message; what a user
// sees of them must not change for it.

function from(id: string, messageId: string, contact: Record<string, string>, role = 'customer') {
  const delivery = storedDelivery(id, messageId)
  const message = delivery.messages[0]!
  Object.assign(message, {
    contact,
    ...(role === 'customer' ? {} : { direction: 'outbound', authorRole: role }),
  })
  return delivery
}

describe('persistDelivery', () => {
  let db: Db
  let sql: Sql
  beforeEach(() => {
    db = openDatabase(':memory:')
    sql = sqlOf(db)
  })
  afterEach(() => closeDatabase(db))

  it('keeps a contact’s details, fills in what it lacked, and takes a changed one', async () => {
    await persistDelivery(sql, from('d1', 'm1', { name: 'Ana' }), new Date(1_000))
    await persistDelivery(sql, from('d2', 'm2', {}), new Date(2_000))
    expect(db.select().from(contacts).all()).toMatchObject([
      { name: 'Ana', email: null, phone: null, createdAt: 1_000 },
    ])
    await persistDelivery(sql, from('d3', 'm3', { email: 'ana@example.com' }), new Date(3_000))
    await persistDelivery(sql, from('d4', 'm4', { name: 'Ana María' }), new Date(4_000))
    await persistDelivery(sql, from('d5', 'm5', { name: 'Ana María' }), new Date(5_000))
    expect(db.select().from(contacts).all()).toMatchObject([
      { name: 'Ana María', email: 'ana@example.com', updatedAt: 4_000 },
    ])
  })

  it('moves a conversation up for every message stored in it, whoever wrote it', async () => {
    const stamp = () => db.select().from(conversations).get()!.updatedAt
    await persistDelivery(sql, from('d1', 'm1', {}), new Date(1_000))
    expect(stamp()).toBe(1_000)
    await persistDelivery(sql, from('d2', 'm2', {}), new Date(2_000))
    expect(stamp()).toBe(2_000)
    await persistDelivery(sql, from('d3', 'm3', {}, 'bot'), new Date(3_000))
    expect(stamp()).toBe(3_000)
    await persistDelivery(sql, from('d4', 'm4', {}, 'agent'), new Date(4_000))
    expect(db.select().from(conversations).all()).toHaveLength(1)
    expect(db.select().from(conversations).get()).toMatchObject({
      updatedAt: 4_000,
      lastInboundAt: 0,
    })
  })
})
