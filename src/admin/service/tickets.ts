import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { recipientOf, replyRequest } from '../../actions/plan-reply.js'
import { planSurvey } from '../../actions/survey.js'
import { OPEN_TICKET, TICKET_STATUSES, type TicketStatus, urgency } from '../../cases/case-rules.js'
import { escalateTicket } from '../../sla/escalation.js'
import { enqueueEffects } from '../../store/outbox-store.js'
import { decidedLanguage, latestCustomerMessage } from '../../store/relay-store.js'
import type { Sql } from '../../store/sql.js'
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
import { mayOwn, ownerOf } from '../people.js'
import {
  type AdminApiDeps,
  authorOf,
  By,
  conflict,
  forbidden,
  Id,
  invalid,
  notFound,
  type Outcome,
  ok,
  read,
  type ServiceInput,
} from './kit.js'
import { searchTickets } from './ticket-search.js'
import { ticketStory } from './ticket-story.js'
import { ticketView } from './views.js'

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
    listTickets: (req: ServiceInput) => searchTickets(deps, req),

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
