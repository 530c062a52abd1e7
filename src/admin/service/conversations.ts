import { z } from 'zod'
import {
  auditRows,
  contactRows,
  conversationRows,
  decisionRows,
  messageRows,
  ticketRows,
} from '../../store/rows.js'
import { type AdminApiDeps, Id, json, notFound, ok, read, type ServiceInput } from './kit.js'
import { ticketView } from './views.js'

const Page = z.object({
  channel: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
})
const RelayFilter = z.object({
  outcome: z.enum(['relayed', 'undeliverable', 'refused']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})

/** Conversations with their last decision, one with every message's decision, and relays. */
export function conversationService(deps: AdminApiDeps) {
  const { db } = deps
  return {
    async conversations(req: ServiceInput) {
      const q = read(Page, req.query)
      if (!q.ok) return q.refusal
      const { channel, limit, offset } = q.value
      const rows = await db.all(
        `select ${conversationRows.select('c', 'c.')}, ${contactRows.select('k', 'k.')},
                d.intent as "d.intent", d.priority as "d.priority", d.level as "d.level",
                d.queue as "d.queue"
           from conversations c
           join contacts k on k.id = c.contact_id
           left join triage_decisions d on d.id =
             (select max(id) from triage_decisions where conversation_id = c.id)
          ${channel === undefined ? '' : 'where c.channel = ?'}
          order by c.updated_at desc, c.id desc limit ? offset ?`,
        [...(channel === undefined ? [] : [channel]), limit, offset],
      )
      return ok({
        conversations: rows.map((row) => {
          const c = conversationRows.read(row, 'c.')
          const contact = contactRows.read(row, 'k.')
          return {
            id: c.id,
            channel: c.channel,
            status: c.status,
            contact: { name: contact.name, email: contact.email, phone: contact.phone },
            lastInboundAt: c.lastInboundAt,
            lastAgentReplyAt: c.lastAgentReplyAt,
            lastDecision:
              row['d.intent'] === null
                ? null
                : {
                    intent: row['d.intent'] as string,
                    priority: row['d.priority'] as string,
                    level: row['d.level'] as string | null,
                    queue: row['d.queue'] as string | null,
                  },
          }
        }),
      })
    },

    async conversation(req: ServiceInput) {
      const id = read(Id, req.params.id)
      if (!id.ok) return id.refusal
      const conversationRow = await db.get(
        `select ${conversationRows.select('c')} from conversations c where c.id = ?`,
        [id.value],
      )
      if (!conversationRow) return notFound(`conversation ${id.value} not found`)
      const conversation = conversationRows.read(conversationRow)
      const [messageList, decisions, ticketList] = await Promise.all([
        db.all(
          `select ${messageRows.select('m')} from messages m where m.conversation_id = ?
            order by m.sent_at, m.id`,
          [id.value],
        ),
        db.all(
          `select ${decisionRows.select('d')} from triage_decisions d where d.conversation_id = ?`,
          [id.value],
        ),
        db.all(`select ${ticketRows.select('t')} from tickets t where t.conversation_id = ?`, [
          id.value,
        ]),
      ])
      const byMessage = new Map(
        decisions.map((row) => {
          const d = decisionRows.read(row)
          return [d.messageId, d]
        }),
      )
      const at = deps.clock.now().getTime()
      return ok({
        conversation: {
          id: id.value,
          channel: conversation.channel,
          status: conversation.status,
          meta: json(conversation.meta),
        },
        tickets: ticketList.map((row) => ticketView(ticketRows.read(row), at)),
        messages: messageList.map((row) => {
          const m = messageRows.read(row)
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
      })
    },

    /** Answers people sent through the hub (relayed, undeliverable, refused), newest first. */
    async relays(req: ServiceInput) {
      const q = read(RelayFilter, req.query)
      if (!q.ok) return q.refusal
      const { outcome, limit } = q.value
      const rows = await db.all(
        `select ${auditRows.select('a', 'a.')}, t.id as "t.id", t.number as "t.number"
           from audit_log a
           left join tickets t on t.id = (select max(id) from tickets
             where conversation_id = cast(substr(a.subject, ${'conversation:'.length + 1}) as integer))
          where ${outcome ? 'a.action = ?' : "a.action like 'relay.%'"}
          order by a.at desc, a.id desc limit ?`,
        [...(outcome ? [`relay.${outcome}`] : []), limit],
      )
      return ok({
        relays: rows.map((row) => {
          const r = auditRows.read(row, 'a.')
          const details = json(r.details) as { messageId?: number; reason?: string } | null
          return {
            at: r.at,
            actor: r.actor,
            outcome: r.action.replace(/^relay\./, ''),
            conversationId: Number(r.subject.replace(/^conversation:/, '')),
            messageId: details?.messageId ?? null,
            reason: details?.reason ?? null,
            ticket:
              row['t.id'] === null
                ? null
                : { id: Number(row['t.id']), number: row['t.number'] as string },
          }
        }),
      })
    },
  }
}
