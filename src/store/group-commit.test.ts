import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from './db.js'
import { groupCommit } from './ingest-store.js'
import { messages, webhookDeliveries } from './schema.js'

const delivery = storedDelivery

describe('group commit', () => {
  let db: Db
  beforeEach(() => {
    db = openDatabase(':memory:')
  })
  afterEach(() => closeDatabase(db))

  it('writes deliveries that arrive together in one commit, each answered after it', async () => {
    const persist = groupCommit(sqlOf(db))
    const now = new Date()
    const pending = [
      persist(delivery('a', '1:1'), now),
      persist(delivery('b', '1:2'), now),
      // The same delivery twice at the same moment, and the same message under a new id.
      persist(delivery('a', '1:1'), now),
      persist(delivery('c', '1:1'), now),
    ]
    // Nothing is written before the batch commits.
    expect(db.select().from(messages).all()).toHaveLength(0)
    const results = await Promise.all(pending)
    expect(results.map((r) => r.outcome)).toEqual(['stored', 'stored', 'duplicate', 'stored'])
    expect(results[3]).toMatchObject({ messageIds: [], duplicateMessages: 1 })
    expect(
      db
        .select()
        .from(messages)
        .all()
        .map((m) => m.externalId),
    ).toEqual(['1:1', '1:2'])
  })

  it('rolls back a delivery that fails, alone, and still stores the rest of its batch', async () => {
    const persist = groupCommit(sqlOf(db))
    const now = new Date()
    const broken = delivery('bad', '1:9')
    // A message without a conversation id cannot be stored (NOT NULL): that insert throws.
    ;(broken.messages[0] as { conversationExternalId: string | null }).conversationExternalId = null
    const [good, bad, other] = await Promise.allSettled([
      persist(delivery('x', '1:7'), now),
      persist(broken, now),
      persist(delivery('y', '1:8'), now),
    ])
    expect(good.status).toBe('fulfilled')
    expect(bad.status).toBe('rejected')
    expect(other.status).toBe('fulfilled')
    expect(
      db
        .select()
        .from(messages)
        .all()
        .map((m) => m.externalId),
    ).toEqual(['1:7', '1:8'])
    // The failed delivery left no trace, so its sender's retry is stored normally.
    expect(
      db
        .select()
        .from(webhookDeliveries)
        .all()
        .map((d) => d.deliveryId),
    ).toEqual(['x', 'y'])
  })
})
