import { expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storeOneMessage } from '../../test/helpers/stored-delivery.js'
import { recipientOf } from '../actions/plan-reply.js'
import { replyHistory } from '../pipeline/reply-history.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import type { Decision } from '../triage/triage.js'
import { enqueueEffects } from './outbox-store.js'
import { migratePostgres, openPostgres } from './postgres.js'
import { automaticRepliesSince } from './reply-caps-store.js'
import type { Sql } from './sql.js'
import { TRIAGE_PARTS } from './triage-parts.js'
import { claimTriagePart } from './triage-queue.js'
import { readAhead, stillFresh, type UndecidedMessage } from './triage-reads.js'

// On PostgreSQL the triage's read-ahead also counts what the reply caps count, for every
// message it reads: the automatic replies to its conversation and to its recipient, and the
// once-a-day replies its conversation got. A message answered automatically then needs no
// statement of its own for them.

const NOW = new Date('2026-11-21T12:00:00Z')
const HOUR = 3_600_000
const WINDOWS = { since: NOW.getTime() - 24 * HOUR, onceADaySince: NOW.getTime() - 24 * HOUR }

const store = (sql: Sql, id: string, conversation: string, contact: string, email?: string) =>
  storeOneMessage(sql, id, { conversation, contact, details: email ? { email } : {} }, NOW)

/** An effect queued at `at` for a conversation and a recipient. */
const effect = (key: string, conversationId: number, recipient: string, automatic = true) => ({
  key,
  kind: 'chatwoot.reply',
  subject: key,
  payload: {},
  conversationId,
  recipient,
  automatic,
})

describeWithService('postgres', 'the reply caps read ahead', () => {
  const postgres = postgresForSuite()

  it('counts with each message what a statement of its own would, and none twice', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      const sql = pg.sql
      await migratePostgres(sql)
      // Two contacts with one address (Ana's two conversations, and Bea's), and Ciro, who has none.
      const ana = await store(sql, 'a', '1:1', 'ana', 'Compartido@Example.cl')
      const answered = await store(sql, 'c0', '1:3', 'ciro')
      const ciro = await store(sql, 'c1', '1:3', 'ciro')
      const bea = await store(sql, 'b', '1:2', 'bea', 'compartido@example.cl')
      const conversation = async (message: number) =>
        Number(
          (await sql.get<{ id: number }>(
            'select conversation_id as id from messages where id = ?',
            [message],
          ))!.id,
        )
      const anas = await conversation(ana)
      const ciros = await conversation(ciro)
      // Two automatic replies to Ana's conversation (and so to the shared address), one older
      // than the window, one that a person sent; one to Ciro.
      await enqueueEffects(sql, [effect('a1', anas, 'compartido@example.cl')], NOW)
      await enqueueEffects(sql, [effect('a2', anas, 'compartido@example.cl')], NOW)
      await enqueueEffects(
        sql,
        [effect('old', anas, 'compartido@example.cl')],
        new Date(NOW.getTime() - 25 * HOUR),
      )
      await enqueueEffects(sql, [effect('person', anas, 'compartido@example.cl', false)], NOW)
      await enqueueEffects(sql, [effect('c', ciros, 'chatwoot:ciro')], NOW)
      // Ciro's conversation was told it is out of hours an hour ago.
      await sql.run(
        `insert into triage_decisions (message_id, conversation_id, intent, confidence, priority,
           needs_human, language, explanation, rulebook_version, created_at, reply_kind)
         values (?, ?, 'saludo', 1, 'baja', 0, 'es', '{}', 'test', ?, 'out_of_hours')`,
        [answered, ciros, NOW.getTime() - HOUR],
      )

      const read = await readAhead(sql, 0, 8, null, WINDOWS)
      // Ciro's first message was decided: read, but not to triage.
      expect(read.map((r) => [r.messageId, r.found !== null])).toEqual([
        [ana, true],
        [answered, false],
        [ciro, true],
        [bea, true],
      ])
      const found = read.flatMap((r) => (r.found ? [r.found] : []))
      const counted = found.map(({ replies }) => ({
        recipient: replies?.recipient,
        toConversation: replies?.toConversation,
        toRecipient: replies?.toRecipient,
        onceADay: [...(replies?.onceADay ?? [])],
      }))
      expect(counted).toEqual([
        {
          recipient: 'compartido@example.cl',
          toConversation: 2,
          toRecipient: 2,
          onceADay: [],
        },
        {
          recipient: 'chatwoot:ciro',
          toConversation: 1,
          toRecipient: 1,
          onceADay: ['out_of_hours'],
        },
        { recipient: 'compartido@example.cl', toConversation: 0, toRecipient: 2, onceADay: [] },
      ])
      // What the statement of its own counts, for each.
      for (const { subject, replies } of found) {
        expect(replies?.recipient).toBe(recipientOf(subject))
        const own = await automaticRepliesSince(
          sql,
          { conversationId: subject.conversation.id, recipient: recipientOf(subject) },
          WINDOWS.since,
          WINDOWS.onceADaySince,
        )
        expect({ ...own, onceADay: [...own.onceADay] }).toEqual({
          toConversation: replies?.toConversation,
          toRecipient: replies?.toRecipient,
          onceADay: [...(replies?.onceADay ?? [])],
        })
      }
      // A claim reads its part the same way, in the same statement.
      const part = anas % TRIAGE_PARTS
      const claimed = await sql.transaction((tx) => claimTriagePart(tx, NOW, part, WINDOWS))
      expect(claimed?.part).toBe(part)
      expect(claimed?.read).toEqual(await readAhead(sql, 0, 8, part, WINDOWS))
      expect(claimed?.read?.map((r) => r.messageId)).toEqual([ana])
      // Bea shares Ana's address: triaged after Ana in the same read, she is read again (an
      // answer to Ana counts against her too). Ciro shares nothing with Ana.
      const [anaFound, ciroFound, beaFound] = found as [
        UndecidedMessage,
        UndecidedMessage,
        UndecidedMessage,
      ]
      expect(stillFresh(ciroFound, [anaFound])).toBe(true)
      expect(stillFresh(beaFound, [anaFound, ciroFound])).toBe(false)
    } finally {
      await pg.close()
    }
  })

  it('are used by the triage only for the same recipient and windows', async () => {
    const pg = openPostgres(postgres.database(), { max: 2 })
    try {
      await migratePostgres(pg.sql)
      await store(pg.sql, 'a', '1:1', 'ana', 'ana@example.cl')
      const [first] = await readAhead(pg.sql, 0, 8, null, WINDOWS)
      const found = first!.found!
      const rulebook = loadRulebook(RULES_DIR)
      const answer = { reply: { kind: 'faq' }, acts: [] } as unknown as Decision
      // The counts read ahead, as they are: no statement (the database would count nothing).
      const ahead = { ...found.replies!, toConversation: 3, toRecipient: 4 }
      const statements: string[] = []
      const watched: Sql = {
        ...pg.sql,
        get: (text, values) => {
          statements.push(text)
          return pg.sql.get(text, values)
        },
      }
      const at = (ms: number) => new Date(NOW.getTime() + ms)
      const history = (now: Date, replies = ahead) =>
        replyHistory(watched, found.subject, answer, rulebook, now, replies)
      expect(await history(at(5))).toMatchObject({
        automaticToConversation: 3,
        automaticToRecipient: 4,
      })
      expect(statements).toHaveLength(0)
      // Read too long before, or for another address: counted again.
      expect(await history(at(5_000))).toMatchObject({ automaticToConversation: 0 })
      expect(await history(at(5), { ...ahead, recipient: 'otra@example.cl' })).toMatchObject({
        automaticToRecipient: 0,
      })
      expect(statements).toHaveLength(2)
    } finally {
      await pg.close()
    }
  })
})
