import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/contracts/message.js'
import { closeDatabase, openDatabase, sqlOf } from '../../src/store/db.js'
import { persistDelivery } from '../../src/store/ingest-store.js'
import { triageDecisions } from '../../src/store/schema.js'
import { RULES_DIR, tempDir, testHub } from '../helpers/hub.js'
import { startServe } from '../helpers/process.js'
import { chatwootHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'chatwoot-webhook-secret'

function chatwootMessage(id: number, text: string) {
  return JSON.stringify({
    event: 'message_created',
    id,
    account: { id: 1 },
    content: text,
    message_type: 'incoming',
    private: false,
    created_at: '2026-11-20T10:00:00.000Z',
    conversation: {
      id: 1000 + id,
      channel: 'Channel::Api',
      meta: { sender: { id: 40 + id, name: 'Ana' } },
    },
    sender: { id: 40 + id, name: 'Ana' },
  })
}

describe('restart', () => {
  it('triages a message stored before the hub started (work left by a stopped process)', async () => {
    const temp = tempDir()
    try {
      const db = openDatabase(join(temp.dir, 'centralita.db'))
      const now = new Date()
      await persistDelivery(
        sqlOf(db),
        {
          channel: 'chatwoot',
          deliveryId: 'left-over',
          rawHash: sha256Hex('x'),
          events: [],
          messages: [
            {
              channel: 'chatwoot',
              externalId: '1:1',
              conversationExternalId: '1:10',
              contactExternalId: '1:40',
              direction: 'inbound',
              authorRole: 'customer',
              text: 'me cobraron dos veces la misma compra',
              language: null,
              attachments: [],
              sentAt: now.toISOString(),
              receivedAt: now.toISOString(),
              rawHash: sha256Hex('x'),
              contact: {},
              triage: true,
              automated: false,
              meta: { accountId: 1, conversationId: 10 },
            },
          ],
        },
        now,
      )
      closeDatabase(db)
      const t = testHub({}, { dir: temp.dir })
      const decision = await waitFor(() => t.hub.db.select().from(triageDecisions).get(), {
        what: 'decision',
      })
      expect(decision.intent).toBe('payment')
      await t.close()
    } finally {
      temp.cleanup()
    }
  })

  it('loses no acknowledged message when the process is killed (SIGKILL) and restarted', async () => {
    const temp = tempDir()
    const env = {
      DATABASE_URL: `file:${join(temp.dir, 'centralita.db')}`,
      RULES_DIR,
      CHATWOOT_WEBHOOK_SECRET: SECRET,
    }
    try {
      const first = await startServe(env)
      const total = 60
      const acknowledged: number[] = []
      await Promise.all(
        Array.from({ length: total }, async (_, i) => {
          const body = chatwootMessage(i + 1, `Hola, quisiera una cotización para ${i + 2} equipos`)
          const res = await fetch(`${first.base}/webhooks/chatwoot`, {
            method: 'POST',
            headers: chatwootHeaders(body, SECRET, { delivery: `kill-${i}` }),
            body,
          })
          if (res.status === 200) acknowledged.push(i + 1)
        }),
      )
      first.child.kill('SIGKILL')
      await first.exited
      expect(acknowledged).toHaveLength(total)

      const second = await startServe(env)
      const count = () => {
        const db = new Database(join(temp.dir, 'centralita.db'), { readonly: true })
        try {
          return (db.prepare('select count(*) as n from triage_decisions').get() as { n: number }).n
        } finally {
          db.close()
        }
      }
      await waitFor(() => count() === total, {
        timeoutMs: 10_000,
        what: 'every acknowledged message triaged',
      })
      const db = new Database(join(temp.dir, 'centralita.db'), { readonly: true })
      const stored = db.prepare('select external_id from messages order by id').all() as {
        external_id: string
      }[]
      db.close()
      expect(stored.map((r) => Number(r.external_id.split(':')[1])).sort((a, b) => a - b)).toEqual(
        [...acknowledged].sort((a, b) => a - b),
      )

      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    } finally {
      temp.cleanup()
    }
  })
})
