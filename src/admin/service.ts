import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import { z } from 'zod'
import { deadLetterView, replayDeadLetters } from '../actions/dead-letter.js'
import { planSurvey } from '../actions/survey.js'
import type { ReplyTools, Source } from '../contracts/channel.js'
import type { ChannelEntry } from '../ingest/ingest.js'
import type { Clock } from '../kit/clock.js'
import type { Logger } from '../kit/logger.js'
import type { Retrainer } from '../learning/run-retrain.js'
import { escalateTicket } from '../sla/escalation.js'
import { type Db, writeTransaction } from '../store/db.js'
import { enqueueEffects, getEffect, listEffects } from '../store/outbox-store.js'
import { decidedLanguage, latestCustomerMessage } from '../store/relay-store.js'
import {
  auditLog,
  contacts,
  conversations,
  escalations,
  messages,
  tickets,
  triageDecisions,
} from '../store/schema.js'
import {
  acceptEscalation,
  assignTicket,
  getTicket,
  markSurveySent,
  OPEN_ESCALATION,
  OPEN_TICKET,
  resolveEscalation,
  setTicketStatus,
  TICKET_STATUSES,
  type TicketRow,
  ticketDeadline,
  urgency,
} from '../store/ticket-store.js'
import { loadTriageSubject } from '../store/triage-store.js'
import type { Rulebook } from '../triage/rulebook/compile.js'
import { learningService } from './learning-service.js'
import { By, HttpError, Id, parse, type ServiceInput } from './service-kit.js'

export { HttpError, type ServiceInput } from './service-kit.js'

export type AdminApiDeps = {
  db: Db
  clock: Clock
  logger: Logger
  token: string
  rulebook: () => Rulebook
  channels: ReadonlyMap<string, ChannelEntry>
  tools: ReplyTools
  sources: readonly Source[]
  /** New outbox effects were queued. */
  onEffects: () => void
  /** Tickets or escalations changed (the SLA clock reschedules). */
  onCasesChanged: () => void
  /** Retrains in a child process (the console's "Reentrenar"); absent, retraining is the CLI's. */
  retrainer?: Retrainer
}

/** Why an answer stored in a conversation was refused as a person's answer, if it was. */
const refusedOf = (meta: string): string | null => {
  const value = (JSON.parse(meta) as { relayRefused?: unknown }).relayRefused
  return typeof value === 'string' ? value : null
}
const json = (value: string | null) => (value ? (JSON.parse(value) as unknown) : null)

/**
 * The admin operations behind both the JSON API and the console: tickets, escalations with
 * their urgency, queues with their load, conversations with their decisions, the outbox,
 * channels. Inputs are validated here; a bad one throws an HttpError (400, 404, 409).
 */
export function adminService(deps: AdminApiDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  const ticketView = (t: TicketRow) => ({
    id: t.id,
    number: t.number,
    type: t.type,
    status: t.status,
    priority: t.priority,
    queue: t.queue,
    level: t.level,
    assignee: t.assignee,
    conversationId: t.conversationId,
    createdAt: t.createdAt,
    firstResponseDueAt: t.firstResponseDueAt,
    firstResponseAt: t.firstResponseAt,
    firstResponseBy: t.firstResponseBy,
    resolutionDueAt: t.resolutionDueAt,
    resolvedAt: t.resolvedAt,
    satisfaction: t.satisfaction,
    urgency: OPEN_TICKET.includes(t.status as never) ? urgency(ticketDeadline(t), now()) : null,
  })

  const ticketOr404 = (id: number) => {
    const ticket = getTicket(db, id)
    if (!ticket) throw new HttpError(404, `ticket ${id} not found`)
    return ticket
  }

  return {
    ...learningService(deps),
    /** Answers people sent through the hub (relayed, undeliverable, refused), newest first. */
    relays: (req: ServiceInput) => {
      const q = parse(
        z.object({
          outcome: z.enum(['relayed', 'undeliverable', 'refused']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        req.query,
      )
      const rows = db
        .select()
        .from(auditLog)
        .where(
          q.outcome
            ? eq(auditLog.action, `relay.${q.outcome}`)
            : sql`${auditLog.action} like 'relay.%'`,
        )
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(q.limit)
        .all()
      return {
        relays: rows.map((r) => {
          const details = json(r.details) as { messageId?: number; reason?: string } | null
          const conversationId = Number(r.subject.replace(/^conversation:/, ''))
          const ticket = db
            .select({ id: tickets.id, number: tickets.number })
            .from(tickets)
            .where(eq(tickets.conversationId, conversationId))
            .orderBy(desc(tickets.id))
            .get()
          return {
            at: r.at,
            actor: r.actor,
            outcome: r.action.replace(/^relay\./, ''),
            conversationId,
            messageId: details?.messageId ?? null,
            reason: details?.reason ?? null,
            ticket: ticket ?? null,
          }
        }),
      }
    },

    listTickets: (req: ServiceInput) => {
      const q = parse(
        z.object({
          status: z.enum([...TICKET_STATUSES, 'open']).optional(),
          queue: z.string().max(64).optional(),
          level: z.enum(['L1', 'L2', 'L3']).optional(),
          priority: z.enum(['critica', 'alta', 'media', 'baja']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        req.query,
      )
      const where: SQL[] = []
      if (q.status === 'open') where.push(inArray(tickets.status, OPEN_TICKET))
      else if (q.status) where.push(eq(tickets.status, q.status))
      if (q.queue) where.push(eq(tickets.queue, q.queue))
      if (q.level) where.push(eq(tickets.level, q.level))
      if (q.priority) where.push(eq(tickets.priority, q.priority))
      const rows = db
        .select()
        .from(tickets)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(tickets.id))
        .limit(q.limit)
        .offset(q.offset)
        .all()
      return { tickets: rows.map(ticketView) }
    },
    ticket: (req: ServiceInput) => {
      const ticket = ticketOr404(parse(Id, req.params.id))
      const conversation = db
        .select()
        .from(conversations)
        .where(eq(conversations.id, ticket.conversationId))
        .get()
      const contact = conversation
        ? db.select().from(contacts).where(eq(contacts.id, conversation.contactId)).get()
        : undefined
      const interactions = db
        .select()
        .from(messages)
        .where(eq(messages.conversationId, ticket.conversationId))
        .orderBy(asc(messages.sentAt), asc(messages.id))
        .all()
      const decisions = db
        .select()
        .from(triageDecisions)
        .where(eq(triageDecisions.conversationId, ticket.conversationId))
        .orderBy(asc(triageDecisions.id))
        .all()
      const history = db
        .select()
        .from(escalations)
        .where(eq(escalations.ticketId, ticket.id))
        .orderBy(asc(escalations.id))
        .all()
      return {
        ticket: ticketView(ticket),
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
        interactions: interactions.map((m) => ({
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
        })),
        decisions: decisions.map((d) => ({
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
        })),
        escalations: history.map((e) => ({
          ...e,
          urgency: OPEN_ESCALATION.includes(e.status as never) ? urgency(e.slaDueAt, now()) : null,
        })),
      }
    },
    setStatus: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(
        z.object({
          status: z.enum(TICKET_STATUSES),
          note: z.string().max(4000).optional(),
          by: By,
          survey: z.boolean().default(true),
        }),
        req.body,
      )
      const at = now()
      const result = writeTransaction(db, (tx) => {
        const updated = setTicketStatus(tx, id, body.status, body.by, at, body.note)
        if (updated === 'not_found') throw new HttpError(404, `ticket ${id} not found`)
        if ('invalid' in updated) throw new HttpError(409, updated.invalid)
        let survey: string | null = null
        if (body.status === 'resuelto' && body.survey) {
          // The satisfaction survey, where the customer's channel can carry it.
          const customerId = latestCustomerMessage(tx, updated.conversationId, 0)
          const customer = customerId === null ? null : loadTriageSubject(tx, customerId)
          if (customer) {
            const planned = planSurvey({
              customer,
              ticket: updated,
              language:
                decidedLanguage(tx, customer.message.id) ??
                deps.rulebook().settings.default_language,
              rulebook: deps.rulebook(),
              channels: deps.channels,
              tools: deps.tools,
              now: new Date(at),
            })
            if ('unavailable' in planned) survey = `not sent: ${planned.unavailable}`
            else {
              enqueueEffects(tx, [planned], new Date(at))
              markSurveySent(tx, updated.id, at)
              survey = 'sent'
            }
          } else survey = 'not sent: no customer message to answer'
        }
        return { ticket: ticketView(getTicket(tx, id)!), survey }
      })
      deps.onEffects()
      deps.onCasesChanged()
      return result
    },
    assign: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(
        z.object({
          assignee: z.string().min(1).max(200).nullable(),
          queue: z.string().max(64).optional(),
          by: By,
        }),
        req.body,
      )
      if (body.queue && !deps.rulebook().queue(body.queue))
        throw new HttpError(400, `queue: unknown queue "${body.queue}"`)
      const updated = assignTicket(
        db,
        id,
        { assignee: body.assignee, ...(body.queue ? { queue: body.queue } : {}) },
        body.by,
        now(),
      )
      if (updated === 'not_found') throw new HttpError(404, `ticket ${id} not found`)
      return { ticket: ticketView(updated) }
    },
    escalate: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(
        z.object({
          level: z.enum(['L1', 'L2', 'L3']),
          reason: z.string().min(3).max(1000),
          notes: z.string().max(4000).optional(),
          by: By,
        }),
        req.body,
      )
      const ticket = ticketOr404(id)
      if (!OPEN_TICKET.includes(ticket.status as never))
        throw new HttpError(409, `ticket ${ticket.number} is ${ticket.status}`)
      if (ticket.level && ticket.level >= body.level)
        throw new HttpError(409, `ticket ${ticket.number} is already at ${ticket.level}`)
      const channel =
        db
          .select({ channel: conversations.channel })
          .from(conversations)
          .where(eq(conversations.id, ticket.conversationId))
          .get()?.channel ?? null
      const at = now()
      const result = writeTransaction(db, (tx) => {
        const escalated = escalateTicket(
          tx,
          {
            ticket,
            channel,
            level: body.level,
            reason: body.reason,
            notes: body.notes ?? null,
            by: body.by,
          },
          deps.rulebook(),
          deps.channels,
          at,
        )
        enqueueEffects(tx, escalated.effects, new Date(at))
        return { escalation: escalated.escalation, notes: escalated.notes }
      })
      deps.onEffects()
      deps.onCasesChanged()
      return {
        ...result,
        escalation: { ...result.escalation, urgency: urgency(result.escalation.slaDueAt, at) },
      }
    },
    escalations: (req: ServiceInput) => {
      const q = parse(z.object({ active: z.enum(['true', 'false']).default('true') }), req.query)
      const rows = db
        .select({
          escalation: escalations,
          ticket: tickets.number,
          queue: tickets.queue,
          priority: tickets.priority,
        })
        .from(escalations)
        .innerJoin(tickets, eq(tickets.id, escalations.ticketId))
        .where(q.active === 'true' ? inArray(escalations.status, OPEN_ESCALATION) : undefined)
        .orderBy(asc(escalations.slaDueAt))
        .all()
      return {
        escalations: rows.map((r) => ({
          ...r.escalation,
          ticket: r.ticket,
          queue: r.queue,
          priority: r.priority,
          urgencia: OPEN_ESCALATION.includes(r.escalation.status as never)
            ? urgency(r.escalation.slaDueAt, now())
            : null,
        })),
      }
    },
    acceptEscalation: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(z.object({ by: By }), req.body ?? {})
      const result = acceptEscalation(db, id, body.by, now())
      if (result === 'not_found') throw new HttpError(404, `escalation ${id} not found`)
      if (result === 'not_pending') throw new HttpError(409, `escalation ${id} is not pending`)
      deps.onCasesChanged()
      return { escalation: result }
    },
    resolveEscalation: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(
        z.object({
          status: z.enum(['resuelto', 'cerrado_sin_resolver']),
          resolution: z.string().min(3).max(4000),
          by: By,
        }),
        req.body,
      )
      const result = resolveEscalation(db, id, body, now())
      if (result === 'not_found') throw new HttpError(404, `escalation ${id} not found`)
      if (result === 'closed') throw new HttpError(409, `escalation ${id} is already closed`)
      deps.onCasesChanged()
      return { escalation: result }
    },
    queues: (_req?: ServiceInput) => {
      const at = now()
      const rows = db
        .select({
          queue: tickets.queue,
          priority: tickets.priority,
          open: sql<number>`count(*)`,
          unanswered: sql<number>`sum(case when ${tickets.firstResponseAt} is null then 1 else 0 end)`,
          oldestWaiting: sql<
            number | null
          >`min(case when ${tickets.firstResponseAt} is null then ${tickets.createdAt} end)`,
        })
        .from(tickets)
        .where(inArray(tickets.status, OPEN_TICKET))
        .groupBy(tickets.queue, tickets.priority)
        .all()
      const queues = deps.rulebook().queues
      return {
        queues: Object.entries(queues).map(([id, q]) => {
          const mine = rows.filter((r) => r.queue === id)
          const oldest = mine.map((r) => r.oldestWaiting).filter((v): v is number => v !== null)
          const oldestWaitingAt = oldest.length ? Math.min(...oldest) : null
          return {
            id,
            name: q.name,
            open: mine.reduce((n, r) => n + r.open, 0),
            unanswered: mine.reduce((n, r) => n + (r.unanswered ?? 0), 0),
            byPriority: Object.fromEntries(mine.map((r) => [r.priority, r.open])),
            oldestWaitingAt,
            oldestWaitingMinutes:
              oldestWaitingAt === null ? null : Math.floor((at - oldestWaitingAt) / 60_000),
          }
        }),
      }
    },
    conversations: (req: ServiceInput) => {
      const q = parse(
        z.object({
          channel: z.string().max(32).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        req.query,
      )
      const rows = db
        .select({ conversation: conversations, contact: contacts })
        .from(conversations)
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(q.channel ? eq(conversations.channel, q.channel) : undefined)
        .orderBy(desc(conversations.updatedAt), desc(conversations.id))
        .limit(q.limit)
        .offset(q.offset)
        .all()
      return {
        conversations: rows.map(({ conversation: c, contact }) => {
          const last = db
            .select({
              intent: triageDecisions.intent,
              priority: triageDecisions.priority,
              level: triageDecisions.level,
              queue: triageDecisions.queue,
            })
            .from(triageDecisions)
            .where(eq(triageDecisions.conversationId, c.id))
            .orderBy(desc(triageDecisions.id))
            .get()
          return {
            id: c.id,
            channel: c.channel,
            status: c.status,
            contact: { name: contact.name, email: contact.email, phone: contact.phone },
            lastInboundAt: c.lastInboundAt,
            lastAgentReplyAt: c.lastAgentReplyAt,
            lastDecision: last ?? null,
          }
        }),
      }
    },
    conversation: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const conversation = db.select().from(conversations).where(eq(conversations.id, id)).get()
      if (!conversation) throw new HttpError(404, `conversation ${id} not found`)
      const rows = db
        .select()
        .from(messages)
        .where(eq(messages.conversationId, id))
        .orderBy(asc(messages.sentAt), asc(messages.id))
        .all()
      const decisions = db
        .select()
        .from(triageDecisions)
        .where(eq(triageDecisions.conversationId, id))
        .all()
      const byMessage = new Map(decisions.map((d) => [d.messageId, d]))
      return {
        conversation: {
          id,
          channel: conversation.channel,
          status: conversation.status,
          meta: json(conversation.meta),
        },
        tickets: db
          .select()
          .from(tickets)
          .where(eq(tickets.conversationId, id))
          .all()
          .map(ticketView),
        messages: rows.map((m) => {
          const d = byMessage.get(m.id)
          return {
            id: m.id,
            direction: m.direction,
            authorRole: m.authorRole,
            text: m.text,
            sentAt: m.sentAt,
            decision: d
              ? {
                  intent: d.intent,
                  confidence: d.confidence,
                  priority: d.priority,
                  level: d.level,
                  queue: d.queue,
                  explanation: json(d.explanation),
                }
              : null,
          }
        }),
      }
    },
    outbox: (req: ServiceInput) => {
      const q = parse(
        z.object({
          status: z.enum(['pending', 'in_flight', 'done', 'dead']).default('dead'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        req.query,
      )
      return { effects: listEffects(db, q).map(deadLetterView) }
    },
    effect: (req: ServiceInput) => {
      const row = getEffect(db, parse(Id, req.params.id))
      if (!row) throw new HttpError(404, `effect ${req.params.id} not found`)
      return { effect: deadLetterView(row) }
    },
    replay: (req: ServiceInput) => {
      const id = parse(Id, req.params.id)
      const body = parse(z.object({ by: By }), req.body ?? {})
      if (!getEffect(db, id)) throw new HttpError(404, `effect ${id} not found`)
      const { replayed } = replayDeadLetters(db, [id], body.by, deps.clock.now())
      if (replayed.length === 0) throw new HttpError(409, `effect ${id} is not in the dead letter`)
      deps.onEffects()
      return { effect: deadLetterView(getEffect(db, id)!) }
    },
    channels: (_req?: ServiceInput) => ({
      channels: [...deps.channels.entries()].map(([id, { adapter, settings }]) => ({
        id,
        kind: adapter.outboundOnly ? 'notifications' : 'channel',
        inbound: settings.inbound.enabled ? 'enabled' : `disabled: ${settings.inbound.reason}`,
      })),
      // Session sources (WhatsApp Web's login QR code while it waits for a scan, mailboxes).
      sources: deps.sources.map((s) => ({
        name: s.name,
        health: s.health(),
        ...(s.snapshot?.() ?? {}),
      })),
    }),
  }
}

export type AdminService = ReturnType<typeof adminService>
