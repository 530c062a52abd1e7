import { z } from 'zod'
import { planSurvey } from '../../actions/survey.js'
import { OPEN_TICKET, TICKET_STATUSES, type TicketStatus, urgency } from '../../cases/case-rules.js'
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
import { list, type Sql } from '../../store/sql.js'
import {
  assignTicket,
  getTicket,
  markSurveySent,
  setTicketStatus,
  type TicketRow,
} from '../../store/ticket-store.js'
import { loadTriageSubject } from '../../store/triage-store.js'
import { escalationView } from './escalations.js'
import {
  type AdminApiDeps,
  By,
  conflict,
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

/** Why an answer stored in a conversation was refused as a person's answer, if it was. */
const refusedOf = (meta: string): string | null => {
  const value = (JSON.parse(meta) as { relayRefused?: unknown }).relayRefused
  return typeof value === 'string' ? value : null
}

/** Tickets: the list, one with its whole story, and what people do to them. */
export function ticketService(deps: AdminApiDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  return {
    async listTickets(req: ServiceInput) {
      const q = read(TicketFilter, req.query)
      if (!q.ok) return q.refusal
      const { status, queue, level, priority, limit, offset } = q.value
      const where: string[] = []
      const params: (string | number)[] = []
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
      const rows = await db.all(
        `select ${ticketRows.select('t')} from tickets t
          ${where.length ? `where ${where.join(' and ')}` : ''}
          order by t.id desc limit ? offset ?`,
        [...params, limit, offset],
      )
      const at = now()
      return ok({ tickets: rows.map((row) => ticketView(ticketRows.read(row), at)) })
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
      const result = await db.transaction(async (tx) => {
        const updated = await setTicketStatus(
          tx,
          id.value,
          change.status,
          change.by,
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
        by,
        now(),
      )
      if (updated === 'not_found') return notFound(`ticket ${id.value} not found`)
      return ok({ ticket: ticketView(updated, now()) })
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
          { ticket, channel, level, reason, notes: notes ?? null, by },
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
  const conversation = conversationRow && conversationRows.read(conversationRow)
  const contactRow =
    conversation &&
    (await db.get(`select ${contactRows.select('k')} from contacts k where k.id = ?`, [
      conversation.contactId,
    ]))
  const contact = contactRow ? contactRows.read(contactRow) : undefined
  return {
    ticket: ticketView(ticket, now),
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
        explanation: json(d.explanation),
        createdAt: d.createdAt,
      }
    }),
    escalations: history.map((row) => escalationView(escalationRows.read(row), now)),
  }
}
