import { whyHere } from './case-why.js'
import { html, type Safe } from './html.js'
import { type Lang, t } from './i18n.js'
import { label, reasonText } from './labels.js'
import type { PageKit } from './page-kit.js'
import type { Detail } from './tickets.js'

/** How a customer is named on a page: name, else email, else phone. */
export const customerOf = (c: {
  name: string | null
  email: string | null
  phone: string | null
}) => c.name ?? c.email ?? c.phone ?? '—'

/**
 * A case's story for its page: why it is where it is, in a sentence, and everything that
 * happened to it, oldest first.
 */
export function caseStory(kit: PageKit) {
  const { when, db, rules } = kit
  const queueName = (id: string) => rules.current().queue(id)?.name ?? id
  /**
   * The same person's messages in their other conversations (another channel, or an earlier
   * thread): the same contact, or a contact with the same email address or phone number.
   */
  const elsewhere = (conversationId: number) =>
    db.all<{
      id: number
      channel: string
      direction: string
      authorRole: string
      text: string
      subject: string | null
      sentAt: number
    }>(
      `select m.id, m.channel, m.direction, m.author_role as "authorRole", m.text, m.subject,
              m.sent_at as "sentAt"
         from messages m join contacts c on c.id = m.contact_id,
              (select k.id, k.email, k.phone from conversations v
                 join contacts k on k.id = v.contact_id where v.id = ?) me
        where m.conversation_id != ?
          and (c.id = me.id or (me.email is not null and c.email = me.email)
               or (me.phone is not null and c.phone = me.phone))
        order by m.sent_at desc limit 50`,
      [conversationId, conversationId],
    )

  /** The case's "why": the decisive moment, in a sentence. */
  const whySentence = (d: Detail, lang: Lang): Safe => {
    const why = whyHere({
      ticket: d.ticket,
      interactions: d.interactions,
      decisions: d.decisions,
      escalations: d.escalations,
    })
    if (!why) return html`<p class="muted">${t(lang, 'none')}</p>`
    const where = `${queueName(why.queue)}${why.level ? ` (${why.level})` : ''}`
    const day = when(why.at, lang)
    const es = lang === 'es'
    if (why.kind === 'words') {
      const codes = why.codes.map((c) => label(lang, c)).join(', ')
      const lead = why.level
        ? es
          ? `Pasó a ${where} porque el ${day} el cliente escribió`
          : `Went to ${where} because on ${day} the customer wrote`
        : es
          ? `Está en ${where} porque el ${day} el cliente escribió`
          : `Is with ${where} because on ${day} the customer wrote`
      return html`<p id="why">${lead} <span class="quote">«${why.quote}»</span>: <strong>${codes}</strong>.</p>`
    }
    if (why.kind === 'person')
      return html`<p id="why">${
        es
          ? `Pasó a ${where} el ${day}: ${why.reason}. Lo escaló ${why.by}.`
          : `Went to ${where} on ${day}: ${why.reason}. Escalated by ${why.by}.`
      }</p>`
    return html`<p id="why">${
      es
        ? `Pasó a ${where} el ${day} porque nadie tomó el caso a tiempo (${why.reason}).`
        : `Went to ${where} on ${day} because nobody took the case in time (${why.reason}).`
    }</p>`
  }

  type Item = { at: number; cls: string; head: Safe | string; body?: Safe | string }

  /** Everything that happened to the case, oldest first: messages, people's actions, alerts. */
  const timeline = async (d: Detail, lang: Lang): Promise<Item[]> => {
    const others = await elsewhere(d.ticket.conversationId)
    const byKey = new Map(d.sent.map((e) => [e.key, e]))
    const delivery = (e: Detail['sent'][number] | undefined) =>
      e
        ? html` · <span class="delivery s-${e.status}">${t(lang, 'delivery')}: ${label(lang, e.status)}${e.lastError && e.status !== 'done' ? ` (${e.lastError})` : ''}</span>`
        : ''
    const replies = d.trail.filter((a) => a.action === 'ticket.reply')
    const replyKeys = new Set(replies.map((a) => String(a.details.key)))
    // A reply from the console is one item (with how its sending went), not two.
    const isEcho = (m: { direction: string; text: string; sentAt: number }) =>
      m.direction === 'outbound' &&
      replies.some((a) => a.details.text === m.text && m.sentAt >= a.at - 1000)
    const items: Item[] = []
    for (const m of d.interactions) {
      if (isEcho(m)) continue
      items.push({
        at: m.sentAt,
        cls: `msg ${m.direction}`,
        head: html`${label(lang, m.authorRole)} · ${m.channel} · ${when(m.sentAt, lang)}`,
        body: html`${
          m.relayRefused
            ? html`<p class="flash error">${t(lang, 'refusedAnswer')}: ${m.relayRefused}</p>`
            : ''
        }${m.subject ? html`<strong>${m.subject}</strong><br>` : ''}${m.text}`,
      })
    }
    for (const m of others)
      items.push({
        at: m.sentAt,
        cls: `msg ${m.direction} other`,
        head: html`${label(lang, m.authorRole)} · ${m.channel} · ${when(m.sentAt, lang)} · <em>${t(lang, 'otherConversation')}</em>`,
        body: html`${m.subject ? html`<strong>${m.subject}</strong><br>` : ''}${m.text}`,
      })
    for (const a of d.trail) {
      const who = `${a.actor} · ${when(a.at, lang)}`
      const detail = (name: string) =>
        typeof a.details[name] === 'string' ? (a.details[name] as string) : ''
      const [scope, what] = a.action.split('.') as [string, string]
      if (a.action === 'ticket.note')
        items.push({
          at: a.at,
          cls: 'note',
          head: `${t(lang, 'ev_note')} · ${who}`,
          body: detail('text'),
        })
      else if (a.action === 'ticket.reply')
        items.push({
          at: a.at,
          cls: 'msg outbound',
          head: html`${t(lang, 'ev_reply')} · ${who} · ${detail('channel')}${delivery(byKey.get(detail('key')))}`,
          body: detail('text'),
        })
      else if (a.action === 'alert.not_sent')
        items.push({
          at: a.at,
          cls: 'alert error',
          head: `${t(lang, 'ev_alert_not_sent')} · ${when(a.at, lang)}`,
          body: reasonText(lang, detail('reason')),
        })
      else if (a.action === 'escalation.created')
        items.push({
          at: a.at,
          cls: 'event',
          head: `${t(lang, 'ev_escalated')} ${detail('toLevel')} · ${who}`,
          body: detail('reason'),
        })
      else if (a.action === 'escalation.accepted')
        items.push({ at: a.at, cls: 'event', head: `${t(lang, 'ev_accepted')} · ${who}` })
      else if (scope === 'escalation')
        items.push({
          at: a.at,
          cls: 'event',
          head: `${t(lang, 'ev_escalation_closed')} (${label(lang, what)}) · ${who}`,
        })
      else if (a.action === 'ticket.assigned')
        items.push({
          at: a.at,
          cls: 'event',
          head: `${t(lang, 'ev_assigned')} ${detail('assignee') || '—'}${detail('queue') ? ` · ${queueName(detail('queue'))}` : ''} · ${who}`,
        })
      else if (a.action === 'ticket.satisfaction')
        items.push({
          at: a.at,
          cls: 'event',
          head: `${t(lang, 'ev_satisfaction')}: ${String(a.details.score)}/5 · ${when(a.at, lang)}`,
        })
      else if (scope === 'ticket')
        items.push({
          at: a.at,
          cls: 'event',
          head: `${t(lang, 'ev_status')} ${label(lang, what)} · ${who}`,
          ...(detail('note') ? { body: detail('note') } : {}),
        })
    }
    for (const e of d.sent) {
      if (replyKeys.has(e.key)) continue
      items.push({
        at: e.createdAt,
        cls: `alert s-${e.status}`,
        head: html`${t(lang, 'ev_alert')} · ${label(lang, e.kind)}${e.recipient ? ` → ${e.recipient}` : ''} · ${when(e.createdAt, lang)}${delivery(e)}`,
      })
    }
    return items.sort((a, b) => a.at - b.at)
  }

  return { whySentence, timeline }
}
