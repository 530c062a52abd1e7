import { randomBytes } from 'node:crypto'
import type { Request, Response, Router } from 'express'
import { firstName, renderTemplate } from '../../actions/render-template.js'
import { mayOwn } from '../people.js'
import type { AdminService } from '../service/index.js'
import { whyHere } from './case-why.js'
import { html, raw, type Safe } from './html.js'
import { type Lang, label, reasonText, t, tf, type Word } from './i18n.js'
import { Refused, refusalText, take } from './outcome.js'
import type { PageKit } from './page-kit.js'
import { ruleHits } from './rule-hits.js'

/** A ticket with its whole story, as the admin service gives it. */
export type Detail = Extract<Awaited<ReturnType<AdminService['ticket']>>, { body: unknown }>['body']

export const ticketDetail = async (service: AdminService, id: string): Promise<Detail> =>
  take(await service.ticket({ params: { id }, query: {}, body: {} }))

const PAGE_SIZE = 25
const SORTS = ['urgency', 'newest', 'oldest', 'priority'] as const
const VIEWS = ['all', 'mine', 'unassigned'] as const
const STATUSES = ['open', 'abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver']
/** The longest note or reply the hub keeps. */
const MAX_TEXT = 4000

/** A form's problem: which field, and what to say next to it. */
type Problem = { field: string; message: string }

/** Tickets: the case list, one case with its story, and what people do to it. */
export function ticketPages(router: Router, kit: PageKit): void {
  const { page, handle, when, pill, timer, flashOf, service, db, rules, personOf } = kit
  const queueName = (id: string) => rules.current().queue(id)?.name ?? id
  const customerOf = (c: { name: string | null; email: string | null; phone: string | null }) =>
    c.name ?? c.email ?? c.phone ?? '—'

  router.get(
    '/tickets',
    handle(async (req, res, lang) => {
      const one = (name: string) => {
        const value = req.query[name]
        return typeof value === 'string' ? value.trim().slice(0, 200) : ''
      }
      const pick = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
        (allowed as readonly string[]).includes(value) ? (value as T) : fallback
      const q = one('q')
      // A search looks at every case (a customer's closed ones too) unless a status is asked.
      const f = {
        q,
        view: pick(one('view'), VIEWS, 'all'),
        sort: pick(one('sort'), SORTS, 'urgency'),
        status: one('status') || (q ? 'all' : 'open'),
        queue: one('queue'),
        priority: one('priority'),
        level: one('level'),
      }
      const pageNo = Math.max(1, Math.min(10_000, Number.parseInt(one('page'), 10) || 1))
      const query = Object.fromEntries(
        Object.entries({
          ...f,
          limit: String(PAGE_SIZE),
          offset: String((pageNo - 1) * PAGE_SIZE),
        }).filter(([, v]) => v && v !== 'all'),
      )
      const { tickets: rows, total } = take(
        await service.listTickets({ params: {}, query, body: {}, actor: personOf(res) }),
      )
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
      const link = (changes: Record<string, string>) => {
        const params = new URLSearchParams(
          Object.entries({ ...f, page: String(pageNo), ...changes }).filter(
            ([k, v]) => v && !(k === 'page' && v === '1'),
          ),
        )
        return `/admin/tickets?${params}`
      }
      const select = (
        name: string,
        word: Word,
        values: readonly string[],
        current: string,
        show: (v: string) => string,
      ) =>
        html`<div><label for="f-${name}">${t(lang, word)}</label><select id="f-${name}" name="${name}">
<option value="all">${t(lang, 'all')}</option>${values.map(
          (v) =>
            html`<option value="${v}" ${v === current ? raw('selected') : ''}>${show(v)}</option>`,
        )}</select></div>`
      const viewWord: Record<(typeof VIEWS)[number], Word> = {
        all: 'viewAll',
        mine: 'viewMine',
        unassigned: 'viewUnassigned',
      }
      page(
        res,
        lang,
        { title: t(lang, 'tickets'), here: '/admin/tickets' },
        html`<nav class="views" aria-label="${t(lang, 'tickets')}">${VIEWS.map(
          (v) =>
            html`<a href="${link({ view: v, page: '1' })}" ${v === f.view ? raw('class="here" aria-current="page"') : ''}>${t(lang, viewWord[v])}</a>`,
        )}</nav>
<section><form class="filters" method="get" role="search">
<div class="wide"><label for="f-q">${t(lang, 'search')}</label><input id="f-q" name="q" type="search" value="${f.q}" maxlength="200" placeholder="${t(lang, 'searchHint')}"></div>
<input type="hidden" name="view" value="${f.view}">
${select('queue', 'queue', Object.keys(rules.current().queues), f.queue, queueName)}
${select('status', 'status', STATUSES, f.status, (v) => label(lang, v))}
${select('priority', 'priority', ['critica', 'alta', 'media', 'baja'], f.priority, (v) => label(lang, v))}
${select('level', 'level', ['L1', 'L2', 'L3'], f.level, (v) => v)}
<div><label for="f-sort">${t(lang, 'sortBy')}</label><select id="f-sort" name="sort">${SORTS.map(
          (s) =>
            html`<option value="${s}" ${s === f.sort ? raw('selected') : ''}>${t(lang, `sort_${s}`)}</option>`,
        )}</select></div>
<button type="submit">${t(lang, 'filter')}</button></form></section>
<section id="cases" data-live>${
          rows.length
            ? html`<table class="cases stack"><thead><tr><th scope="col">${t(lang, 'caseCol')}</th><th scope="col">${t(lang, 'customer')}</th><th scope="col">${t(lang, 'lastMessage')}</th><th scope="col">${t(lang, 'queue')}</th><th scope="col">${t(lang, 'level')}</th><th scope="col">${t(lang, 'priority')}</th><th scope="col">${t(lang, 'deadline')}</th></tr></thead><tbody>
${rows.map(
  (tk) =>
    html`<tr><td><a href="/admin/tickets/${tk.id}">${tk.number}</a><br><span class="muted">${label(lang, tk.type)} · ${label(lang, tk.status)}</span></td>
<td>${customerOf(tk.contact)}${tk.contact.name && (tk.contact.email || tk.contact.phone) ? html`<br><span class="muted">${tk.contact.email ?? tk.contact.phone}</span>` : ''}<br><span class="muted">${tk.channel}</span></td>
<td class="preview">${tk.lastMessage ? html`<span class="muted">${label(lang, tk.lastMessage.authorRole)}:</span> ${tk.lastMessage.text}` : '—'}</td>
<td data-label="${t(lang, 'queue')}">${queueName(tk.queue)}${tk.assignee ? html`<br><span class="muted">${tk.assignee}</span>` : ''}</td><td data-label="${t(lang, 'level')}">${tk.level ?? '—'}</td><td data-label="${t(lang, 'priority')}">${label(lang, tk.priority)}</td>
<td data-label="${t(lang, 'deadline')}">${tk.urgency ? html`${timer(tk.dueAt, lang)} ${pill(tk.urgency, lang)}` : '—'}</td></tr>`,
)}</tbody></table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }
<p class="pager">${pageNo > 1 ? html`<a href="${link({ page: String(pageNo - 1) })}" rel="prev">${t(lang, 'previous')}</a>` : ''}
<span id="page-of">${tf(lang, 'pageOf', { page: pageNo, pages, total })}</span>
${pageNo < pages ? html`<a href="${link({ page: String(pageNo + 1) })}" rel="next">${t(lang, 'next')}</a>` : ''}</p></section>`,
      )
    }),
  )

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

  /** A field's error, tied to its input for screen readers. */
  const fieldError = (problems: readonly Problem[], field: string) => {
    const problem = problems.find((p) => p.field === field)
    return problem
      ? html`<p class="field-error" id="${field}-error" role="alert">${problem.message}</p>`
      : ''
  }
  const invalidAttrs = (problems: readonly Problem[], field: string) =>
    problems.some((p) => p.field === field)
      ? raw(`aria-invalid="true" aria-describedby="${field}-error"`)
      : ''

  const renderTicket = async (
    req: Request,
    res: Response,
    lang: Lang,
    options: { problems?: Problem[]; kept?: Record<string, string>; status?: number } = {},
  ) => {
    const problems = options.problems ?? []
    const kept = options.kept ?? {}
    const d = await ticketDetail(service, String(req.params.id))
    const items = await timeline(d, lang)
    const me = personOf(res)
    const tk = d.ticket
    const decisive = whyHere({
      ticket: tk,
      interactions: d.interactions,
      decisions: d.decisions,
      escalations: d.escalations,
    })
    const shown =
      (decisive?.kind === 'words' && d.decisions.find((x) => x.id === decisive.decisionId)) ||
      d.decisions.at(-1)
    const explanation = shown?.explanation as
      | {
          reasons?: string[]
          hits?: { target: string; matched: string; vetoed?: string }[]
        }
      | undefined
    const open = tk.status === 'abierto' || tk.status === 'en_proceso'
    const language = (d.decisions.at(-1)?.language as 'es' | 'en' | undefined) ?? 'es'
    const canned = Object.entries(rules.current().canned).map(([id, c]) => ({
      id,
      title: c.title[lang],
      text: renderTemplate(c[language], {
        name: firstName(d.contact?.name ?? null),
        ticket: tk.number,
      }),
    }))
    const statuses = ['abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver']
    const closing = (s: string) => s === 'resuelto' || s === 'cerrado_sin_resolver'
    const people = await kit.people()
    page(
      res,
      lang,
      {
        title: `${tk.number}`,
        here: '/admin/tickets',
        flash: flashOf(req, lang),
        ...(options.status ? { status: options.status } : {}),
      },
      html`<section id="case-head" data-live><p>${d.contact ? html`<strong>${customerOf(d.contact)}</strong>${d.contact.email ? ` · ${d.contact.email}` : ''}${d.contact.phone ? ` · ${d.contact.phone}` : ''} · ` : ''}${d.conversation?.channel ?? ''}</p>
<p>${label(lang, tk.type)} · ${t(lang, 'queue')} ${queueName(tk.queue)} · ${t(lang, 'level')} ${tk.level ?? '—'} · ${t(lang, 'priority')} ${label(lang, tk.priority)} · ${t(lang, 'status')} <strong id="ticket-status">${label(lang, tk.status)}</strong>${tk.assignee ? ` · ${t(lang, 'assignee')}: ${tk.assignee}` : ''}</p>
<p>${t(lang, 'caseDeadline')}: ${open ? html`${timer(tk.dueAt, lang)} ${pill(tk.urgency, lang)}${tk.dueKind ? html` <span class="muted">(${t(lang, `due_${tk.dueKind}`)})</span>` : ''}` : '—'}</p>
${open && tk.level !== 'L3' ? html`<p><a href="/admin/tickets/${tk.id}/escalate">${t(lang, 'escalate')} →</a></p>` : ''}</section>
<section><h2>${t(lang, 'whyHere')}</h2>${whySentence(d, lang)}</section>
<div class="grid"><section><h2>${t(lang, 'timeline')}</h2><ol id="timeline" class="timeline" data-live>${items.map(
        (i) =>
          html`<li class="${i.cls}"><div class="muted">${i.head}</div>${i.body ? html`<div class="text">${i.body}</div>` : ''}</li>`,
      )}</ol></section>
<section><h2>${t(lang, 'reply')}</h2>
<form method="post" action="/admin/tickets/${tk.id}/reply" id="reply-form" novalidate>
<input type="hidden" name="nonce" value="${kept.nonce ?? randomBytes(12).toString('base64url')}">
${
  canned.length
    ? html`<label for="canned">${t(lang, 'cannedAnswers')}</label><select id="canned">
<option value="">${t(lang, 'pickCanned')}</option>${canned.map((c) => html`<option value="${c.id}" data-text="${c.text}">${c.title}</option>`)}</select>`
    : ''
}
<label for="reply-text">${t(lang, 'message')}</label>
<textarea id="reply-text" name="text" rows="5" ${invalidAttrs(problems, 'reply-text')}>${kept.reply ?? ''}</textarea>
${fieldError(problems, 'reply-text')}
<p class="muted">${tf(lang, 'replyVia', { channel: d.conversation?.channel ?? '—' })}</p>
<p><button type="submit">${t(lang, 'send')}</button></p></form>
<h2>${t(lang, 'addNote')}</h2>
<form method="post" action="/admin/tickets/${tk.id}/note" id="note-form" novalidate>
<label for="note-text">${t(lang, 'note')}</label>
<textarea id="note-text" name="text" rows="3" ${invalidAttrs(problems, 'note-text')}>${kept.note ?? ''}</textarea>
${fieldError(problems, 'note-text')}
<p><button type="submit">${t(lang, 'saveNote')}</button></p></form></section></div>
<section><h2>${t(lang, 'escalations')}</h2>${
        d.escalations.length
          ? html`<table id="escalations" class="stack"><thead><tr><th scope="col">${t(lang, 'level')}</th><th scope="col">${t(lang, 'reason')}</th><th scope="col">${t(lang, 'status')}</th><th scope="col">${t(lang, 'deadline')}</th><th scope="col">${t(lang, 'who')}</th></tr></thead><tbody>${d.escalations.map(
              (e) =>
                html`<tr><td>${e.fromLevel ?? '—'} → ${e.toLevel}</td><td>${e.reason}${e.notes ? html`<br><span class="muted">${e.notes}</span>` : ''}</td><td>${label(lang, e.status)}${e.resolution ? html`<br><span class="muted">${e.resolution}</span>` : ''}</td><td>${e.urgency ? html`${timer(e.slaDueAt, lang)} ${pill(e.urgency, lang)}` : '—'}</td><td>${e.escalatedBy}${e.receivedBy ? html` → ${e.receivedBy}` : ''}${
                  e.status === 'pendiente' && mayOwn(me.role, e.toLevel)
                    ? html`<form method="post" action="/admin/escalations/${e.id}/accept" class="inline"><input type="hidden" name="ticket" value="${tk.id}"><button type="submit" id="accept-${e.id}">${t(lang, 'accept')}</button></form>`
                    : ''
                }</td></tr>`,
            )}</tbody></table>`
          : html`<p class="muted">${t(lang, 'none')}</p>`
      }</section>
<section><h2>${t(lang, 'decision')}</h2>${
        shown
          ? html`<p><strong>${label(lang, shown.intent)}</strong> (${Math.round(shown.confidence * 100)} %) · ${label(lang, shown.priority)} · ${shown.level ?? '—'} · ${shown.queue ? queueName(shown.queue) : '—'} · <a href="/admin/decisions/${shown.id}/correct" id="correct-link">${t(lang, 'correct')}</a></p>
<ul id="reasons">${(explanation?.reasons ?? []).map((r) => html`<li>${reasonText(lang, r)}</li>`)}</ul>
${ruleHits(explanation?.hits ?? [], lang)}`
          : html`<p class="muted">${t(lang, 'none')}</p>`
      }</section>
<section><h2>${t(lang, 'actions')}</h2><div class="grid">
<form method="post" action="/admin/tickets/${tk.id}/status" id="status-form" novalidate><label for="status">${t(lang, 'changeStatus')}</label>
<select id="status" name="status" ${invalidAttrs(problems, 'status')}>${statuses.map(
        (s) =>
          html`<option value="${s}" ${s === (kept.status ?? tk.status) ? raw('selected') : ''} ${closing(s) && !mayOwn(me.role, tk.level) ? raw('disabled') : ''}>${label(lang, s)}</option>`,
      )}</select>${fieldError(problems, 'status')}
<label for="status-note">${t(lang, 'statusNote')}</label><textarea id="status-note" name="note" rows="2" ${invalidAttrs(problems, 'status-note')}>${kept.statusNote ?? ''}</textarea>
${fieldError(problems, 'status-note')}
<p><button type="submit">${t(lang, 'save')}</button></p></form>
<form method="post" action="/admin/tickets/${tk.id}/assign" id="assign-form"><label for="assignee">${t(lang, 'assignee')}</label>
<input id="assignee" name="assignee" list="people" value="${tk.assignee ?? ''}" maxlength="200" required ${invalidAttrs(problems, 'assignee')}>${fieldError(problems, 'assignee')}
<datalist id="people">${people.map((p) => html`<option value="${p}"></option>`)}</datalist>
<label for="queue">${t(lang, 'queue')}</label><select id="queue" name="queue">${Object.keys(
        rules.current().queues,
      ).map(
        (q) =>
          html`<option value="${q}" ${q === tk.queue ? raw('selected') : ''}>${queueName(q)}</option>`,
      )}</select><p><button type="submit">${t(lang, 'assign')}</button></p></form></div></section>`,
    )
  }

  router.get(
    '/tickets/:id',
    handle((req, res, lang) => renderTicket(req, res, lang)),
  )

  /**
   * Runs a form's operation; a refusal comes back as the ticket page with the form as it was
   * and the problem next to `field` (nothing typed is lost).
   */
  const submit =
    (
      field: string,
      keep: (req: Request) => Record<string, string>,
      check: (req: Request, lang: Lang) => string | null,
      run: (req: Request, res: Response) => Promise<string>,
    ) =>
    async (req: Request, res: Response, lang: Lang) => {
      const problem = check(req, lang)
      if (problem)
        return renderTicket(req, res, lang, {
          problems: [{ field, message: problem }],
          kept: keep(req),
          status: 400,
        })
      try {
        res.redirect(303, `/admin/tickets/${req.params.id}?done=${await run(req, res)}`)
      } catch (err) {
        if (!(err instanceof Refused) || err.status === 404) throw err
        await renderTicket(req, res, lang, {
          problems: [{ field, message: refusalText(lang, err.message) }],
          kept: keep(req),
          status: err.status,
        })
      }
    }
  const text = (req: Request) => (typeof req.body?.text === 'string' ? req.body.text : '')
  const textProblem = (value: string, lang: Lang, optional = false) =>
    !optional && !value.trim()
      ? t(lang, 'empty')
      : value.length > MAX_TEXT
        ? tf(lang, 'tooLong', { n: value.length.toLocaleString(lang === 'es' ? 'es-CL' : 'en') })
        : null

  router.post(
    '/tickets/:id/reply',
    handle(
      submit(
        'reply-text',
        (req) => ({ reply: text(req), nonce: String(req.body?.nonce ?? '') }),
        (req, lang) => textProblem(text(req), lang),
        async (req, res) => {
          take(
            await service.reply({
              params: { id: String(req.params.id) },
              query: {},
              body: { text: text(req), nonce: req.body?.nonce },
              actor: personOf(res),
            }),
          )
          return 'replied'
        },
      ),
    ),
  )

  router.post(
    '/tickets/:id/note',
    handle(
      submit(
        'note-text',
        (req) => ({ note: text(req) }),
        (req, lang) => textProblem(text(req), lang),
        async (req, res) => {
          take(
            await service.note({
              params: { id: String(req.params.id) },
              query: {},
              body: { text: text(req) },
              actor: personOf(res),
            }),
          )
          return 'noted'
        },
      ),
    ),
  )

  const statusNote = (req: Request) => (typeof req.body?.note === 'string' ? req.body.note : '')
  router.post(
    '/tickets/:id/status',
    handle(
      submit(
        'status',
        (req) => ({ status: String(req.body?.status ?? ''), statusNote: statusNote(req) }),
        (req, lang) => textProblem(statusNote(req), lang, true),
        async (req, res) => {
          take(
            await service.setStatus({
              params: { id: String(req.params.id) },
              query: {},
              body: {
                status: req.body.status,
                ...(statusNote(req).trim() ? { note: statusNote(req).trim() } : {}),
              },
              actor: personOf(res),
            }),
          )
          return 'saved'
        },
      ),
    ),
  )

  router.post(
    '/tickets/:id/assign',
    handle(
      submit(
        'assignee',
        () => ({}),
        () => null,
        async (req, res) => {
          take(
            await service.assign({
              params: { id: String(req.params.id) },
              query: {},
              body: {
                assignee: String(req.body.assignee ?? ''),
                queue: String(req.body.queue ?? ''),
              },
              actor: personOf(res),
            }),
          )
          return 'saved'
        },
      ),
    ),
  )
}
