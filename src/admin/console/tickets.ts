import type { Router } from 'express'
import { list } from '../../store/sql.js'
import type { AdminService } from '../service/index.js'
import { html, raw } from './html.js'
import { t, type Word } from './i18n.js'
import { take } from './outcome.js'
import type { PageKit } from './page-kit.js'
import { ruleHits } from './rule-hits.js'

/** A ticket with its whole story, as the admin service gives it. */
export type Detail = Extract<Awaited<ReturnType<AdminService['ticket']>>, { body: unknown }>['body']

export const ticketDetail = async (service: AdminService, id: string): Promise<Detail> =>
  take(await service.ticket({ params: { id }, query: {}, body: {} }))

/** Tickets: the filtered list, one ticket with its story and actions, status and assignment. */
export function ticketPages(router: Router, kit: PageKit): void {
  const { page, handle, when, pill, timer, flashOf, service, db, rules } = kit
  router.get(
    '/tickets',
    handle(async (req, res, lang) => {
      const q = {
        status:
          typeof req.query.status === 'string' && req.query.status ? req.query.status : 'open',
        queue: typeof req.query.queue === 'string' ? req.query.queue : '',
        priority: typeof req.query.priority === 'string' ? req.query.priority : '',
        level: typeof req.query.level === 'string' ? req.query.level : '',
      }
      const query = Object.fromEntries(
        Object.entries({ ...q, limit: '200' }).filter(([, v]) => v && v !== 'all'),
      )
      const { tickets: rows } = take(await service.listTickets({ params: {}, query, body: {} }))
      const queues = Object.keys(rules.current().queues)
      const select = (name: string, label: Word, values: string[], current: string) =>
        html`<div><label for="f-${name}">${t(lang, label)}</label><select id="f-${name}" name="${name}">
<option value="all">${t(lang, 'all')}</option>${values.map(
          (v) => html`<option value="${v}" ${v === current ? raw('selected') : ''}>${v}</option>`,
        )}</select></div>`
      page(
        res,
        lang,
        { title: t(lang, 'tickets'), here: '/admin/tickets' },
        html`<section><form class="filters" method="get">
${select('queue', 'queue', queues, q.queue)}
${select('status', 'status', ['open', 'abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver'], q.status)}
${select('priority', 'priority', ['critica', 'alta', 'media', 'baja'], q.priority)}
${select('level', 'level', ['L1', 'L2', 'L3'], q.level)}
<button type="submit">${t(lang, 'filter')}</button></form></section>
<section>${
          rows.length
            ? html`<table><tr><th>${t(lang, 'number')}</th><th>${t(lang, 'queue')}</th><th>${t(lang, 'priority')}</th><th>${t(lang, 'level')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'deadline')}</th></tr>
${rows.map(
  (tk) =>
    html`<tr><td><a href="/admin/tickets/${tk.id}">${tk.number}</a><br><span class="muted">${tk.type}</span></td><td>${tk.queue}</td><td>${tk.priority}</td><td>${tk.level ?? '—'}</td><td>${tk.status}</td><td>${
      tk.urgency
        ? timer(
            tk.firstResponseAt === null
              ? (tk.firstResponseDueAt ?? tk.resolutionDueAt)
              : tk.resolutionDueAt,
            lang,
          )
        : '—'
    }</td></tr>`,
)}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>`,
      )
    }),
  )

  const detailOf = (id: string) => ticketDetail(service, id)

  /** Outbox effects about the ticket or its escalations: what was notified, to whom, and how it went. */
  const notificationsOf = (d: Detail) => {
    const subjects = [`ticket:${d.ticket.id}`, ...d.escalations.map((e) => `escalation:${e.id}`)]
    return db.all<{
      id: number
      kind: string
      recipient: string | null
      status: string
      subject: string
      createdAt: number
    }>(
      `select id, kind, recipient, status, subject, created_at as "createdAt" from outbox
        where subject in (${list(subjects)}) order by id`,
      subjects,
    )
  }

  /**
   * The same person's messages in their other conversations (another channel, or an earlier
   * thread): the same contact, or a contact with the same email address or phone number.
   */
  const elsewhere = (conversationId: number) =>
    db.all<{
      channel: string
      direction: string
      authorRole: string
      text: string
      subject: string | null
      sentAt: number
    }>(
      `select m.channel, m.direction, m.author_role as "authorRole", m.text, m.subject,
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

  router.get(
    '/tickets/:id',
    handle(async (req, res, lang) => {
      const d = await detailOf(String(req.params.id))
      const [others, notifications] = await Promise.all([
        elsewhere(d.ticket.conversationId),
        notificationsOf(d),
      ])
      const tk = d.ticket
      const latest = d.decisions.at(-1)
      const explanation = latest?.explanation as
        | {
            summary?: string
            reasons?: string[]
            hits?: { target: string; term: string; matched: string; vetoed?: string }[]
            combined?: { intent: string; score: number }[]
          }
        | undefined
      const due =
        tk.firstResponseAt === null
          ? (tk.firstResponseDueAt ?? tk.resolutionDueAt)
          : tk.resolutionDueAt
      const open = tk.status === 'abierto' || tk.status === 'en_proceso'
      const statuses = ['abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver']
      page(
        res,
        lang,
        { title: `${tk.number}`, here: '/admin/tickets', flash: flashOf(req, lang) },
        html`<section><p>${tk.type} · ${tk.queue} · ${t(lang, 'priority')} ${tk.priority} · ${t(lang, 'level')} ${tk.level ?? '—'} · ${t(lang, 'status')} <strong id="ticket-status">${tk.status}</strong>
${d.contact ? html` · ${t(lang, 'customer')}: ${d.contact.name ?? d.contact.email ?? d.contact.phone ?? '—'}` : ''}</p>
<p>${t(lang, 'deadline')}: ${open ? timer(due, lang) : '—'} ${pill(tk.urgency)}</p>
${open ? html`<p><a href="/admin/tickets/${tk.id}/escalate">${t(lang, 'escalate')} →</a></p>` : ''}</section>
<div class="grid"><section><h2>${t(lang, 'conversation')}</h2>${[...d.interactions, ...others]
          .sort((a, b) => a.sentAt - b.sentAt)
          .map(
            (m) =>
              html`<div class="msg ${m.direction}"><div class="muted">${m.channel} · ${m.authorRole} · ${when(m.sentAt, lang)}</div>${
                'relayRefused' in m && typeof m.relayRefused === 'string'
                  ? html`<p class="flash error">${t(lang, 'refusedAnswer')}: ${m.relayRefused}</p>`
                  : ''
              }${m.subject ? html`<strong>${m.subject}</strong><br>` : ''}${m.text}</div>`,
          )}</section>
<section><h2>${t(lang, 'decision')}</h2>${
          latest
            ? html`<p><strong>${latest.intent}</strong> (${Math.round(latest.confidence * 100)} %) · ${latest.priority} · ${latest.level ?? '—'} · ${latest.queue ?? '—'} · <a href="/admin/decisions/${latest.id}/correct" id="correct-link">${t(lang, 'correct')}</a></p>
<p>${explanation?.summary ?? ''}</p><ul>${(explanation?.reasons ?? []).map((r) => html`<li>${r}</li>`)}</ul>
${ruleHits(explanation?.hits ?? [], lang)}`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section></div>
<section><h2>${t(lang, 'escalations')}</h2>${
          d.escalations.length
            ? html`<table id="escalations"><tr><th>${t(lang, 'level')}</th><th>${t(lang, 'reason')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'deadline')}</th></tr>${d.escalations.map(
                (e) =>
                  html`<tr><td>${e.fromLevel ?? '—'} → ${e.toLevel}</td><td>${e.reason}${e.notes ? html`<br><span class="muted">${e.notes}</span>` : ''}</td><td>${e.status}</td><td>${e.urgency ? html`${timer(e.slaDueAt, lang)} ${pill(e.urgency)}` : '—'}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'notifications')}</h2>${(() => {
          const rows = notifications
          return rows.length
            ? html`<table id="notifications"><tr><th>${t(lang, 'type')}</th><th>${t(lang, 'channel')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'created')}</th></tr>${rows.map(
                (r) =>
                  html`<tr><td>${r.kind}</td><td>${r.recipient ?? '—'}</td><td>${r.status}</td><td>${when(r.createdAt, lang)}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        })()}</section>
<section><h2>${t(lang, 'actions')}</h2><div class="grid">
<form method="post" action="/admin/tickets/${tk.id}/status"><label for="status">${t(lang, 'changeStatus')}</label>
<select id="status" name="status">${statuses.map((s) => html`<option ${s === tk.status ? raw('selected') : ''}>${s}</option>`)}</select>
<label for="note">${t(lang, 'note')}</label><input id="note" name="note" maxlength="4000">
<p><button type="submit">${t(lang, 'save')}</button></p></form>
<form method="post" action="/admin/tickets/${tk.id}/assign"><label for="assignee">${t(lang, 'assignee')}</label>
<input id="assignee" name="assignee" value="${tk.assignee ?? ''}" maxlength="200" required>
<label for="queue">${t(lang, 'queue')}</label><select id="queue" name="queue">${Object.keys(
          rules.current().queues,
        ).map(
          (q) => html`<option ${q === tk.queue ? raw('selected') : ''}>${q}</option>`,
        )}</select><p><button type="submit">${t(lang, 'assign')}</button></p></form></div></section>`,
      )
    }),
  )

  router.post(
    '/tickets/:id/status',
    handle(async (req, res) => {
      take(
        await service.setStatus({
          params: { id: String(req.params.id) },
          query: {},
          body: {
            status: req.body.status,
            ...(req.body.note ? { note: String(req.body.note) } : {}),
            by: 'consola',
          },
        }),
      )
      res.redirect(303, `/admin/tickets/${req.params.id}?done=saved`)
    }),
  )

  router.post(
    '/tickets/:id/assign',
    handle(async (req, res) => {
      take(
        await service.assign({
          params: { id: String(req.params.id) },
          query: {},
          body: {
            assignee: String(req.body.assignee ?? ''),
            queue: String(req.body.queue ?? ''),
            by: 'consola',
          },
        }),
      )
      res.redirect(303, `/admin/tickets/${req.params.id}?done=saved`)
    }),
  )
}
