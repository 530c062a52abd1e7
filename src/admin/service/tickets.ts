import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { recipientOf, replyRequest } from '../../actions/plan-reply.js'
import { planSurvey } from '../../actions/survey.js'
import {
  OPEN_ESCALATION,
  OPEN_TICKET,
  TICKET_STATUSES,
  type TicketStatus,
  urgency,
} from '../../cases/case-rules.js'
import { escalateTicket } from '../../sla/escalation.js'
import { enqueueEffects } from '../../store/outbox-store.js'
import { decidedLanguage, latestCustomerMessage } from '../../store/relay-store.js'
import {
  contactRows,
  conversationRows,
  decisionRows,
  escalationRows,
  messageRows,
  ticketRows,
} from '../../store/rows.js'
import { list, type Sql, type SqlValue } from '../../store/sql.js'
import {
  assignTicket,
  audit,
  getTicket,
  markSurveySent,
  recordTicketResponse,
  setTicketStatus,
  type TicketRow,
} from '../../store/ticket-store.js'
import { loadTriageSubject } from '../../store/triage-store.js'
import { actorName, mayOwn, ownerOf, TOKEN_PERSON } from '../people.js'
import { escalationView } from './escalations.js'
import {
  type AdminApiDeps,
  authorOf,
  By,
  conflict,
  forbidden,
  Id,
  invalid,
  json,
  notFound,
  type Outcome,
  ok,
  read,
  type ServiceInput,
} from './kit.js'
import { ticketView } from './views.js'

const TicketFilter = z.object({
  status: z.enum([...TICKET_STATUSES, 'open']).optional(),
  queue: z.string().max(64).optional(),
  level: z.enum(['L1', 'L2', 'L3']).optional(),
  priority: z.enum(['critica', 'alta', 'media', 'baja']).optional(),
  /** Words in the customer's name, email or phone, the ticket number or the messages. */
  q: z.string().trim().max(200).optional(),
  /** `mine`: assigned to, or accepted by, the signed-in person; `unassigned`: nobody's yet. */
  view: z.enum(['all', 'mine', 'unassigned']).default('all'),
  /** `urgency`: open cases first, the most overdue (then the nearest deadline) first. */
  sort: z.enum(['urgency', 'newest', 'oldest', 'priority']).default('urgency'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
})
const StatusChange = z.object({
  status: z.enum(TICKET_STATUSES),
  note: z.string().max(4000).optional(),
  by: By,
  survey: z.boolean().default(true),
})
const Assignment = z.object({
  assignee: z.string().min(1).max(200).nullable(),
  queue: z.string().max(64).optional(),
  by: By,
})
const Escalation = z.object({
  level: z.enum(['L1', 'L2', 'L3']),
  reason: z.string().min(3).max(1000),
  notes: z.string().max(4000).optional(),
  by: By,
})

const Written = z.object({
  text: z.string().trim().min(1, 'write something').max(4000, 'at most 4,000 characters'),
  /** The form's own random value: the same reply posted twice is sent once. */
  nonce: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional(),
  by: By,
})

/** Why an answer stored in a conversation was refused as a person's answer, if it was. */
const refusedOf = (meta: string): string | null => {
  const value = (JSON.parse(meta) as { relayRefused?: unknown }).relayRefused
  return typeof value === 'string' ? value : null
}

/** Tickets: the list, one with its whole story, and what people do to them. */
export function ticketService(deps: AdminApiDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  /** The ticket a reply or note is written on, and what was written; or why not. */
  const writtenOn = async (req: ServiceInput) => {
    const id = read(Id, req.params.id)
    if (!id.ok) return id.refusal
    const body = read(Written, req.body)
    if (!body.ok) return body.refusal
    const ticket = await getTicket(db, id.value)
    if (!ticket) return notFound(`ticket ${id.value} not found`)
    return { ticket, body: body.value }
  }

  return {
    async listTickets(req: ServiceInput) {
      const q = read(TicketFilter, req.query)
      if (!q.ok) return q.refusal
      const { status, queue, level, priority, limit, offset } = q.value
      const where: string[] = []
      const params: SqlValue[] = []
      if (status === 'open') where.push(`t.status in (${list(OPEN_TICKET)})`)
      else if (status) where.push('t.status = ?')
      params.push(...(status === 'open' ? OPEN_TICKET : status ? [status] : []))
      for (const [column, value] of [
        ['queue', queue],
        ['level', level],
        ['priority', priority],
      ] as const) {
        if (value === undefined) continue
        where.push(`t.${column} = ?`)
        params.push(value)
      }
      if (q.value.q) {
        const words = searchPatterns(q.value.q)
        where.push(`(lower(k.name) like ? escape '!' or lower(k.email) like ? escape '!'
          or lower(t.number) like ? escape '!'
          or exists (select 1 from messages m where m.conversation_id = t.conversation_id
                       and lower(m.text) like ? escape '!')
          ${words.digits ? `or k.phone like ? escape '!'` : ''})`)
        params.push(words.text, words.text, words.text, words.text)
        if (words.digits) params.push(words.digits)
      }
      if (q.value.view === 'unassigned') where.push('t.assignee is null')
      if (q.value.view === 'mine') {
        const me = req.actor ?? TOKEN_PERSON
        const names = [actorName(me), me.name, ...(me.email ? [me.email] : [])]
        where.push(`(t.assignee in (${list(names)}) or exists (select 1 from escalations e
          where e.ticket_id = t.id and e.received_by = ? and e.status in (${list(OPEN_ESCALATION)})))`)
        params.push(...names, actorName(me), ...OPEN_ESCALATION)
      }
      const from = `from tickets t join conversations c on c.id = t.conversation_id
        join contacts k on k.id = c.contact_id ${where.length ? `where ${where.join(' and ')}` : ''}`
      const order = {
        urgency: 'open_rank, due nulls last, id',
        newest: 'id desc',
        oldest: 'id',
        priority: 'priority_rank, open_rank, due nulls last, id',
      }[q.value.sort]
      // The case's deadline is the nearer of the ticket's (first response, then resolution)
      // and its open escalation's: one SLA truth for the list, the ticket and the escalation.
      const [rows, counted] = await Promise.all([
        db.all(
          `select y.*,
                  case when open_rank = 1 then null
                    when "levelDue" is not null and ("ticketDue" is null or "levelDue" < "ticketDue")
                      then "levelDue" else "ticketDue" end as due
             from (
               select ${ticketRows.select('t')}, k.name as "contactName", k.email as "contactEmail",
                      k.phone as "contactPhone", c.channel as "channel",
                      (select min(e.sla_due_at) from escalations e where e.ticket_id = t.id
                         and e.status in (${list(OPEN_ESCALATION)})) as "levelDue",
                      case when t.first_response_at is null
                        then coalesce(t.first_response_due_at, t.resolution_due_at)
                        else t.resolution_due_at end as "ticketDue",
                      case when t.status in (${list(OPEN_TICKET)}) then 0 else 1 end as open_rank,
                      case t.priority when 'critica' then 0 when 'alta' then 1 when 'media' then 2
                        else 3 end as priority_rank,
                      (select m.text from messages m where m.conversation_id = t.conversation_id
                        order by m.sent_at desc, m.id desc limit 1) as "lastText",
                      (select m.author_role from messages m where m.conversation_id = t.conversation_id
                        order by m.sent_at desc, m.id desc limit 1) as "lastAuthor"
               ${from}) y
           order by ${order} limit ? offset ?`,
          [...OPEN_ESCALATION, ...OPEN_TICKET, ...params, limit, offset],
        ),
        db.get<{ n: number }>(`select count(*) as n ${from}`, params),
      ])
      const at = now()
      return ok({
        total: Number(counted?.n ?? 0),
        tickets: rows.map((row) => ({
          ...ticketView(ticketRows.read(row), at, numberOrNull(row.levelDue)),
          channel: row.channel as string,
          contact: {
            name: (row.contactName as string | null) ?? null,
            email: (row.contactEmail as string | null) ?? null,
            phone: (row.contactPhone as string | null) ?? null,
          },
          lastMessage:
            typeof row.lastText === 'string'
              ? { text: preview(row.lastText), authorRole: String(row.lastAuthor) }
              : null,
        })),
      })
    },

    async ticket(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const ticket = await getTicket(db, id.value)
      if (!ticket) return notFound(`ticket ${id.value} not found`)
      return ok(await ticketStory(db, ticket, now()))
    },

    async setStatus(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(StatusChange, req.body)
      if (!body.ok) return body.refusal
      const change = body.value
      const at = now()
      if (req.actor && (change.status === 'resuelto' || change.status === 'cerrado_sin_resolver')) {
        const ticket = await getTicket(db, id.value)
        if (ticket && !mayOwn(req.actor.role, ticket.level))
          return forbidden(
            `closing a case at ${ticket.level} is for ${ownerOf(ticket.level)} or above, not ${req.actor.role}`,
          )
      }
      const result = await db.transaction(async (tx) => {
        const updated = await setTicketStatus(
          tx,
          id.value,
          change.status,
          authorOf(req, change.by),
          at,
          change.note,
        )
        if (updated === 'not_found') return notFound(`ticket ${id.value} not found`)
        if ('invalid' in updated) return conflict(updated.invalid)
        const survey =
          change.status === 'resuelto' && change.survey ? await sendSurvey(tx, updated, at) : null
        return ok({ ticket: ticketView((await getTicket(tx, id.value))!, at), survey })
      })
      if (result.outcome === 'ok') {
        deps.onEffects()
        deps.onCasesChanged()
      }
      return result
    },

    async assign(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(Assignment, req.body)
      if (!body.ok) return body.refusal
      const { assignee, queue, by } = body.value
      if (queue && !deps.rulebook().queue(queue)) return invalid(`queue: unknown queue "${queue}"`)
      const updated = await assignTicket(
        db,
        id.value,
        { assignee, ...(queue ? { queue } : {}) },
        authorOf(req, by),
        now(),
      )
      if (updated === 'not_found') return notFound(`ticket ${id.value} not found`)
      return ok({ ticket: ticketView(updated, now()) })
    },

    /**
     * A person's answer to the customer, on the channel of the customer's last message, through
     * the outbox like every message the hub sends. The first answer is the case's first response.
     */
    async reply(req: ServiceInput) {
      const asked = await writtenOn(req)
      if ('outcome' in asked) return asked
      const { ticket, body } = asked
      const customerId = await latestCustomerMessage(db, ticket.conversationId, 0)
      const customer = customerId === null ? null : await loadTriageSubject(db, customerId)
      if (!customer) return conflict('the case has no customer message to answer')
      const channel = customer.message.channel
      const entry = deps.channels.get(channel)
      if (!entry?.adapter.planReply) return conflict(`${channel} cannot send messages`)
      const at = now()
      const by = authorOf(req, body.by)
      const key = `ticket:${ticket.id}:reply:${body.nonce ?? randomUUID()}`
      const language =
        (await decidedLanguage(db, customer.message.id)) ??
        deps.rulebook().settings.default_language
      const planned = entry.adapter.planReply(
        replyRequest(customer, {
          key,
          subjectRef: `ticket:${ticket.id}`,
          text: body.text,
          language,
          automatic: false,
          at: new Date(at),
        }),
        entry.settings.config,
        deps.tools,
      )
      if ('unavailable' in planned) return conflict(planned.unavailable)
      const added = await db.transaction(async (tx) => {
        const added = await enqueueEffects(
          tx,
          [
            {
              ...planned,
              automatic: false,
              conversationId: ticket.conversationId,
              recipient: planned.recipient ?? recipientOf(customer),
            },
          ],
          new Date(at),
        )
        if (added === 0) return 0
        await audit(
          tx,
          {
            actor: by,
            action: 'ticket.reply',
            subject: `ticket:${ticket.id}`,
            details: { text: body.text, key, channel },
          },
          at,
        )
        await recordTicketResponse(tx, ticket.id, by, at)
        return added
      })
      if (added > 0) {
        deps.onEffects()
        deps.onCasesChanged()
      }
      return {
        outcome: 'created',
        body: { key, channel, sent: added > 0 ? 'queued' : 'already queued' },
      } satisfies Outcome<unknown>
    },

    /** A private note in the case's timeline (the customer never sees it). */
    async note(req: ServiceInput) {
      const asked = await writtenOn(req)
      if ('outcome' in asked) return asked
      const { ticket, body } = asked
      await audit(
        db,
        {
          actor: authorOf(req, body.by),
          action: 'ticket.note',
          subject: `ticket:${ticket.id}`,
          details: { text: body.text },
        },
        now(),
      )
      deps.onCasesChanged()
      return { outcome: 'created', body: { noted: true } } satisfies Outcome<unknown>
    },

    async escalate(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const body = read(Escalation, req.body)
      if (!body.ok) return body.refusal
      const { level, reason, notes, by } = body.value
      const ticket = await getTicket(db, id.value)
      if (!ticket) return notFound(`ticket ${id.value} not found`)
      if (!OPEN_TICKET.includes(ticket.status as TicketStatus))
        return conflict(`ticket ${ticket.number} is ${ticket.status}`)
      if (ticket.level && ticket.level >= level)
        return conflict(`ticket ${ticket.number} is already at ${ticket.level}`)
      const channel =
        (
          await db.get<{ channel: string }>('select channel from conversations where id = ?', [
            ticket.conversationId,
          ])
        )?.channel ?? null
      const at = now()
      const result = await db.transaction(async (tx) => {
        const escalated = await escalateTicket(
          tx,
          { ticket, channel, level, reason, notes: notes ?? null, by: authorOf(req, by) },
          deps.rulebook(),
          deps.channels,
          at,
        )
        await enqueueEffects(tx, escalated.effects, new Date(at))
        return escalated
      })
      deps.onEffects()
      deps.onCasesChanged()
      return {
        outcome: 'created',
        body: {
          escalation: { ...result.escalation, urgency: urgency(result.escalation.slaDueAt, at) },
          notes: result.notes,
        },
      } satisfies Outcome<unknown>
    },
  }

  /** The satisfaction survey, where the customer's channel can carry it: what became of it. */
  async function sendSurvey(tx: Sql, ticket: TicketRow, at: number): Promise<string> {
    const customerId = await latestCustomerMessage(tx, ticket.conversationId, 0)
    const customer = customerId === null ? null : await loadTriageSubject(tx, customerId)
    if (!customer) return 'not sent: no customer message to answer'
    const rulebook = deps.rulebook()
    const planned = planSurvey({
      customer,
      ticket,
      language:
        (await decidedLanguage(tx, customer.message.id)) ?? rulebook.settings.default_language,
      rulebook,
      channels: deps.channels,
      tools: deps.tools,
      now: new Date(at),
    })
    if ('unavailable' in planned) return `not sent: ${planned.unavailable}`
    await enqueueEffects(tx, [planned], new Date(at))
    await markSurveySent(tx, ticket.id, at)
    return 'sent'
  }
}

/** A ticket with its conversation, contact, every interaction, decision and escalation. */
async function ticketStory(db: Sql, ticket: TicketRow, now: number) {
  const conversationId = ticket.conversationId
  const [conversationRow, interactions, decisions, history] = await Promise.all([
    db.get(`select ${conversationRows.select('c')} from conversations c where c.id = ?`, [
      conversationId,
    ]),
    db.all(
      `select ${messageRows.select('m')} from messages m where m.conversation_id = ?
        order by m.sent_at, m.id`,
      [conversationId],
    ),
    db.all(
      `select ${decisionRows.select('d')} from triage_decisions d where d.conversation_id = ?
        order by d.id`,
      [conversationId],
    ),
    db.all(
      `select ${escalationRows.select('e')} from escalations e where e.ticket_id = ? order by e.id`,
      [ticket.id],
    ),
  ])
  const subjects = [`ticket:${ticket.id}`, ...history.map((row) => `escalation:${row.id}`)]
  const [trail, sent] = await Promise.all([
    db.all<{ id: number; at: number; actor: string; action: string; details: string }>(
      `select id, at, actor, action, details from audit_log where subject = ? order by id`,
      [`ticket:${ticket.id}`],
    ),
    db.all<{
      id: number
      key: string
      kind: string
      recipient: string | null
      status: string
      attempts: number
      lastError: string | null
      createdAt: number
      doneAt: number | null
    }>(
      `select id, idempotency_key as "key", kind, recipient, status, attempts,
              last_error as "lastError", created_at as "createdAt", done_at as "doneAt"
         from outbox where subject in (${list(subjects)}) order by id`,
      subjects,
    ),
  ])
  const conversation = conversationRow && conversationRows.read(conversationRow)
  const contactRow =
    conversation &&
    (await db.get(`select ${contactRows.select('k')} from contacts k where k.id = ?`, [
      conversation.contactId,
    ]))
  const contact = contactRow ? contactRows.read(contactRow) : undefined
  const escalations = history.map((row) => escalationView(escalationRows.read(row), now))
  const levelDue = escalations
    .filter((e) => e.urgency !== null)
    .reduce<number | null>((min, e) => (min === null || e.slaDueAt < min ? e.slaDueAt : min), null)
  return {
    ticket: ticketView(ticket, now, levelDue),
    conversation: conversation && {
      id: conversation.id,
      channel: conversation.channel,
      status: conversation.status,
    },
    contact: contact && {
      name: contact.name,
      email: contact.email,
      phone: contact.phone,
      channel: contact.channel,
    },
    interactions: interactions.map((row) => {
      const m = messageRows.read(row)
      return {
        id: m.id,
        channel: m.channel,
        direction: m.direction,
        authorRole: m.authorRole,
        text: m.text,
        subject: m.subject,
        attachments: json(m.attachments),
        automated: m.automated,
        deliveryState: m.deliveryState,
        sentAt: m.sentAt,
        // An answer to a queue's email that was not the queue's: kept, never sent.
        relayRefused: refusedOf(m.meta),
      }
    }),
    decisions: decisions.map((row) => {
      const d = decisionRows.read(row)
      return {
        id: d.id,
        messageId: d.messageId,
        intent: d.intent,
        confidence: d.confidence,
        priority: d.priority,
        level: d.level,
        queue: d.queue,
        signals: json(d.signals),
        language: d.language,
        explanation: json(d.explanation),
        createdAt: d.createdAt,
      }
    }),
    escalations,
    /** What people and the hub did to the case: status changes, notes, replies, escalations, alerts not sent. */
    trail: trail.map((a) => ({
      id: Number(a.id),
      at: Number(a.at),
      actor: a.actor,
      action: a.action,
      details: (json(a.details) ?? {}) as Record<string, unknown>,
    })),
    /** What the hub sent about the case (replies from the console, alerts), and how it went. */
    sent: sent.map((e) => ({
      ...e,
      id: Number(e.id),
      attempts: Number(e.attempts),
      createdAt: Number(e.createdAt),
      doneAt: e.doneAt === null ? null : Number(e.doneAt),
    })),
  }
}

const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)

/** A message cut to a line for the case list. */
const preview = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 140 ? `${line.slice(0, 139)}…` : line
}

/**
 * LIKE patterns for a search: the words as typed (lower-cased, `!` escaping LIKE's wildcards),
 * and, when the search holds six digits or more, those digits for phone numbers however they
 * were written.
 */
function searchPatterns(q: string): { text: string; digits: string | null } {
  const literal = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`)
  const digits = q.replace(/\D/g, '')
  return {
    text: `%${literal(q.toLowerCase())}%`,
    digits: digits.length >= 6 ? `%${digits}%` : null,
  }
}
