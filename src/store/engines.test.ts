import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { decidedMessage } from '../../test/helpers/decided.js'
import { RULES_DIR, tempDir } from '../../test/helpers/hub.js'
import { startPostgres, type TestPostgres } from '../../test/helpers/postgres.js'
import { run } from '../../test/helpers/process.js'
import { describeWithService } from '../../test/helpers/services.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import { waitFor } from '../../test/helpers/wait.js'
import { consoleSessionStore } from '../admin/console/sessions.js'
import { monthlyReport } from '../admin/monthly-report.js'
import { peopleStore } from '../admin/people.js'
import { adminService } from '../admin/service/index.js'
import { silentLogger } from '../kit/logger.js'
import { correctionLines, listCorrections, recordCorrection } from '../learning/corrections.js'
import { correctedRules, weeklyCorrections } from '../learning/learning-report.js'
import { activeModelId, rollbackModel, storeAdopted } from '../learning/model-store.js'
import type { Decision } from '../triage/triage.js'
import { closeDatabase, openDatabase, sqlOf } from './db.js'
import { persistDelivery } from './ingest-store.js'
import {
  claimDueEffects,
  enqueueEffects,
  getEffect,
  markEffectDone,
  nextEffectDueAt,
  outboxDepth,
} from './outbox-store.js'
import { migratePostgres, openPostgres } from './postgres.js'
import { automaticRepliesSince } from './reply-caps-store.js'
import { purgeExpired } from './retention.js'
import { postgresSignals, type Topic } from './signals.js'
import type { Sql } from './sql.js'
import { acceptEscalation, escalate, getTicket, setTicketStatus } from './ticket-store.js'
import { claimTriagePart, triageBacklog, triageQueueSlice } from './triage-queue.js'
import { loadUndecided } from './triage-reads.js'
import {
  countRecentComplaints,
  insertDecision,
  loadTriageSubject,
  nextTicketNumber,
  openTicket,
} from './triage-store.js'

// The repositories' SQL on both engines: the same calls, the same answers, on a SQLite file and
// on a real PostgreSQL server (a throwaway cluster of its own).

const NOW = new Date('2026-11-20T15:00:00Z')
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000)

function decision(priority: Decision['priority'], intent = 'complaint'): Decision {
  return {
    intent,
    confidence: 0.9,
    priority,
    level: null,
    signals: [],
    amount: null,
    language: 'es',
    queue: 'atencion',
    needsHuman: true,
    ticket: null,
    reply: { kind: 'out_of_hours' },
    explanation: { hits: [] },
  } as unknown as Decision
}

/** What the store says after a day of work, through its repositories only. */
async function aDayOfWork(sql: Sql) {
  // Two deliveries, one of them twice, and the same message again under a new delivery id.
  const first = await persistDelivery(
    sql,
    storedDelivery('d-1', '1:1', 'me cobraron dos veces'),
    NOW,
  )
  const again = await persistDelivery(
    sql,
    storedDelivery('d-1', '1:1', 'me cobraron dos veces'),
    NOW,
  )
  const renamed = await persistDelivery(
    sql,
    storedDelivery('d-9', '1:1', 'me cobraron dos veces'),
    NOW,
  )
  await persistDelivery(sql, storedDelivery('d-2', '1:2', 'hola'), at(1))
  const backlog = await triageBacklog(sql)
  // The worker's slice: both messages handed out once, in order (on PostgreSQL, of the part
  // of the queue their conversation is in).
  const handed = await sql.transaction(async (tx) => {
    const part = tx.dialect === 'postgres' ? await claimTriagePart(tx, at(2), 0) : null
    const queue = await triageQueueSlice(tx, at(2), part ?? undefined)
    const items = await queue.next(8)
    for (const item of items) await queue.done(item)
    await queue.close()
    return items.map((i) => i.messageId)
  })
  const id = first.outcome === 'stored' ? first.messageIds[0]! : 0
  const subject = (await loadTriageSubject(sql, id))!
  const where = { messageId: id, conversationId: subject.conversation.id }
  await insertDecision(sql, where, decision('alta'), 'test', at(2))
  const ticket = await openTicket(
    sql,
    {
      conversationId: subject.conversation.id,
      messageId: id,
      type: 'reclamo',
      priority: 'media',
      queue: 'atencion',
      level: null,
      assignee: null,
      firstResponseDueAt: at(60).getTime(),
      resolutionDueAt: at(600).getTime(),
    },
    at(2),
  )
  // The second message, still to triage, finds the case open, and a more urgent message in it.
  const inCase = (await loadUndecided(sql, handed[1]!))?.openCase
  const escalation = await escalate(
    sql,
    {
      ticketId: ticket.id,
      toLevel: 'L2',
      reason: 'monto alto',
      notes: null,
      escalatedBy: 'sistema',
      slaDueAt: at(240).getTime(),
    } as never,
    at(3).getTime(),
  )
  // Raised again: the open escalation is closed, the new one starts from its level, and the
  // case moves to the level's owner.
  const raised = await escalate(
    sql,
    {
      ticketId: ticket.id,
      toLevel: 'L3',
      owner: 'legal',
      reason: 'amenaza "legal" — SERNAC',
      notes: 'segunda vez',
      escalatedBy: 'sistema',
      slaDueAt: at(300).getTime(),
    },
    at(3).getTime() + 1,
  )
  const raisedTicket = await getTicket(sql, ticket.id)
  const accepted = await acceptEscalation(sql, raised.id, 'Paula', at(4).getTime())
  const resolved = await setTicketStatus(sql, ticket.id, 'resuelto', 'Paula', at(30).getTime())
  // The outbox: enqueued once per key, claimed under a lease, done.
  const queued = await enqueueEffects(
    sql,
    [
      { kind: 'test.effect', key: 'k1', subject: `ticket:${ticket.id}`, payload: { n: 1 } },
      { kind: 'test.effect', key: 'k1', subject: `ticket:${ticket.id}`, payload: { n: 1 } },
      { kind: 'test.effect', key: 'k2', subject: 'x', payload: {}, after: 'k1' },
    ],
    at(5),
  )
  const claimed = await claimDueEffects(sql, 10, at(6), 60_000)
  for (const effect of claimed) await markEffectDone(sql, effect.id, { ok: true }, at(6))
  const learned = await decidedMessage(sql, 'el zentrix parpadea', { intent: 'other' })
  await recordCorrection(sql, {
    decisionId: learned.decisionId,
    source: 'console',
    actor: 'Paula',
    fields: { intent: 'support' },
    at: at(7).getTime(),
  })
  const lines: string[] = []
  for await (const line of correctionLines(sql)) lines.push(line)
  const model = await storeAdopted(
    sql,
    {
      reason: 'r',
      metrics: {},
      corpusHash: 'h',
      modelVersion: 'v',
      throughCorrection: 1,
      corrections: 1,
      by: 'test',
      at: at(8).getTime(),
    },
    (id) => Buffer.from(`weights ${id}`),
  )
  const week = { start: NOW.getTime() - 86_400_000, end: NOW.getTime() + 86_400_000 }
  // The console's accounts and case search.
  const people = peopleStore(sql)
  const paula = await people.add(
    { email: 'Paula@Tienda.example', name: 'Paula', role: 'supervisor' },
    at(8).getTime(),
  )
  await people.choosePassword(paula!.link, 'una-clave-bien-larga', at(9).getTime())
  const sessions = consoleSessionStore(sql)
  const session = await sessions.start((await people.byId(paula!.person.id!))!, at(9).getTime())
  const service = adminService({
    db: sql,
    clock: { now: () => at(40) },
    logger: silentLogger,
    token: 't',
    rulebook: () => {
      throw new Error('not needed')
    },
    channels: new Map(),
    tools: { email: null },
    sources: [],
    onEffects: () => {},
    onCasesChanged: () => {},
  })
  const search = async (query: Record<string, string>) => {
    const result = await service.listTickets({ params: {}, query, body: {} })
    if (!('body' in result)) return result.reason
    const { total, tickets } = result.body
    return { total, found: tickets.map((k) => [k.number, k.contact.name, k.lastMessage?.text]) }
  }
  return {
    stored: [first.outcome, again.outcome, renamed],
    backlog,
    handed: handed.length,
    subject: { text: subject.message.text, triage: subject.message.triage },
    decided: {
      openCase: inCase?.ticket.number === ticket.number,
      moreUrgent: inCase?.moreUrgent,
      complaints: await countRecentComplaints(sql, subject.contact, 0),
      onceADay: [
        ...(
          await automaticRepliesSince(
            sql,
            { conversationId: subject.conversation.id, recipient: 'nadie@example.cl' },
            0,
            0,
          )
        ).onceADay,
      ],
    },
    ticket: {
      created: ticket.created,
      number: ticket.number,
      next: await nextTicketNumber(sql, 2026, at(9).getTime()),
    },
    escalation: accepted === 'not_found' || accepted === 'not_pending' ? accepted : accepted.status,
    escalations: {
      first: escalation,
      raised,
      rows: await sql.all(
        `select id, ticket_id, from_level, to_level, reason, notes, status, resolution,
                resolved_at, sla_due_at from escalations order by id`,
      ),
      ticket: { level: raisedTicket?.level, queue: raisedTicket?.queue },
      audit: await sql.all('select at, actor, action, subject, details from audit_log order by id'),
    },
    resolved: typeof resolved === 'object' && 'status' in resolved ? resolved.status : resolved,
    closedEscalation: (await getTicket(sql, ticket.id))?.resolvedAt,
    outbox: {
      queued,
      claimed: claimed.map((e) => e.idempotencyKey),
      second: (await claimDueEffects(sql, 10, at(7), 60_000)).map((e) => e.idempotencyKey),
      depth: await outboxDepth(sql),
      next: await nextEffectDueAt(sql),
      result: (await getEffect(sql, claimed[0]!.id))?.result,
    },
    learning: {
      corrections: (await listCorrections(sql)).map((c) => c.corrected),
      lines: lines.length,
      weeks: (await weeklyCorrections(sql, [week])).map((w) => [...w.intents.entries()]),
      rules: await correctedRules(sql, 0),
      active: (await activeModelId(sql)) === model,
      rollback: (await rollbackModel(sql, 'x', at(10).getTime())).outcome,
    },
    report: (await monthlyReport(sql, '2026-11', 'America/Santiago')).requests,
    console: {
      signedIn: (await people.signIn('paula@tienda.EXAMPLE', 'una-clave-bien-larga'))?.role,
      wrong: await people.signIn('paula@tienda.example', 'otra-clave-cualquiera'),
      linkUsed: await people.byLink(paula!.link, at(10).getTime()),
      session: (await sessions.person(session, at(10).getTime()))?.email,
      byText: await search({ q: 'DOS veces' }),
      byNumber: await search({ q: ticket.number.toLowerCase() }),
      byPhone: await search({ q: '+56 9 1234 5678' }),
      nothing: await search({ q: '100%_x' }),
      unassigned: await search({ view: 'unassigned', sort: 'priority' }),
      newest: await search({ sort: 'newest', limit: '1' }),
    },
    purged: await purgeExpired(sql, at(60 * 24 * 30).getTime(), {
      deliveriesMs: 86_400_000,
      jobsMs: 86_400_000,
    }),
  }
}

describeWithService('postgres', 'the store on both engines', () => {
  let postgres: TestPostgres
  beforeAll(async () => {
    postgres = await startPostgres()
  }, 60_000)
  afterAll(() => postgres?.stop())

  it('gives the same answers on SQLite and on PostgreSQL', async () => {
    const sqlite = openDatabase(':memory:')
    const onSqlite = await aDayOfWork(sqlOf(sqlite))
    closeDatabase(sqlite)
    const store = openPostgres(postgres.database())
    try {
      expect(await migratePostgres(store.sql)).toEqual([
        '0000_initial.sql',
        '0001_console_users.sql',
        '0002_triage_parts.sql',
        '0003_row_version.sql',
      ])
      // Applied once: a second start (or another instance) applies nothing.
      expect(await migratePostgres(store.sql)).toEqual([])
      const onPostgres = await aDayOfWork(store.sql)
      expect(onPostgres).toEqual(onSqlite)
      // And the day did happen.
      expect(onSqlite).toMatchObject({
        stored: ['stored', 'duplicate', { outcome: 'stored', messageIds: [] }],
        backlog: 2,
        handed: 2,
        subject: { text: 'me cobraron dos veces', triage: true },
        decided: { openCase: true, moreUrgent: 'alta', complaints: 1, onceADay: ['out_of_hours'] },
        escalation: 'en_proceso',
        escalations: {
          rows: [
            { from_level: null, to_level: 'L2', status: 'cerrado_sin_resolver' },
            { from_level: 'L2', to_level: 'L3', status: 'resuelto' },
          ],
          ticket: { level: 'L3', queue: 'legal' },
        },
        resolved: 'resuelto',
        outbox: { queued: 2, claimed: ['k1'], second: ['k2'] },
        learning: { corrections: [{ intent: 'support' }], lines: 1, active: true },
        console: {
          signedIn: 'supervisor',
          wrong: null,
          linkUsed: null,
          session: 'paula@tienda.example',
          byText: { total: 1, found: [[expect.any(String), null, 'hola']] },
          byNumber: { total: 1 },
          byPhone: { total: 0, found: [] },
          nothing: { total: 0, found: [] },
          unassigned: { total: 1 },
          newest: { total: 1 },
        },
      })
    } finally {
      await store.close()
    }
  }, 60_000)

  it('copies a SQLite install into PostgreSQL, where the hub goes on from where it was', async () => {
    const temp = tempDir()
    try {
      const file = join(temp.dir, 'hub.db')
      const sqlite = openDatabase(file)
      await aDayOfWork(sqlOf(sqlite))
      const counts = async (sql: Sql) =>
        Object.fromEntries(
          await Promise.all(
            [
              'messages',
              'triage_decisions',
              'tickets',
              'outbox',
              'corrections',
              'channel_state',
              'console_users',
            ].map(async (t) => [
              t,
              Number((await sql.get<{ n: number }>(`select count(*) as n from ${t}`))?.n),
            ]),
          ),
        )
      const before = await counts(sqlOf(sqlite))
      const backlog = await triageBacklog(sqlOf(sqlite))
      closeDatabase(sqlite)

      const url = postgres.database()
      const copied = run(['db', 'copy', '--from', `file:${file}`, '--to', url], '', {
        RULES_DIR,
      })
      expect(copied.stderr).toBe('')
      expect(copied.code).toBe(0)
      expect(copied.stdout).toContain('messages: 3')
      // Copying again into a database that has messages is refused.
      const again = run(['db', 'copy', '--from', `file:${file}`, '--to', url], '', { RULES_DIR })
      expect(again.code).not.toBe(0)

      const store = openPostgres(url)
      try {
        expect(await counts(store.sql)).toEqual(before)
        // The triage cursor came along: nothing is triaged twice.
        expect(await triageBacklog(store.sql)).toBe(backlog)
        // New rows take ids after the copied ones.
        const next = await persistDelivery(store.sql, storedDelivery('d-3', '1:3', 'otra'), at(90))
        expect(next).toMatchObject({ outcome: 'stored', messageIds: [4] })
      } finally {
        await store.close()
      }
    } finally {
      temp.cleanup()
    }
  }, 60_000)

  it('lets instances wake each other: what one notifies, every other one hears', async () => {
    const url = postgres.database()
    // Two instances, each with its pool.
    const stores = [openPostgres(url), openPostgres(url)] as const
    const heard: { a: Topic[]; b: Topic[] } = { a: [], b: [] }
    const a = postgresSignals({
      url,
      pool: stores[0].pool,
      logger: silentLogger,
      onNotice: (t) => heard.a.push(t),
    })
    const b = postgresSignals({
      url,
      pool: stores[1].pool,
      logger: silentLogger,
      onNotice: (t) => heard.b.push(t),
    })
    try {
      // Both listening (a notice sent before a listener is connected is not heard by it).
      await waitFor(async () => {
        a.notify('cases')
        b.notify('cases')
        await new Promise((r) => setTimeout(r, 100))
        return heard.b.includes('cases') && heard.a.includes('cases')
      })
      await new Promise((r) => setTimeout(r, 200))
      heard.a.length = 0
      heard.b.length = 0
      // Notices of a topic sent together go out once, and the sender does not hear its own.
      a.notify('outbox')
      a.notify('outbox')
      a.notify('triage')
      b.notify('cases')
      await waitFor(() => heard.b.length >= 2 && heard.a.length >= 1)
      await new Promise((r) => setTimeout(r, 200))
      expect(heard.b.sort()).toEqual(['outbox', 'triage'])
      expect(heard.a).toEqual(['cases'])
    } finally {
      await a.close()
      await b.close()
      for (const store of stores) await store.close()
    }
  }, 30_000)
})
