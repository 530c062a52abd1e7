import type { Router } from 'express'
import { customerOf } from './case-story.js'
import { html, raw } from './html.js'
import { t, tf, type Word } from './i18n.js'
import { label } from './labels.js'
import { take } from './outcome.js'
import type { PageKit } from './page-kit.js'

const PAGE_SIZE = 25
const SORTS = ['urgency', 'newest', 'oldest', 'priority'] as const
const VIEWS = ['all', 'mine', 'unassigned'] as const
const STATUSES = ['open', 'abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver']

/**
 * The case list: customer, channel, last message, queue, level, priority and time left, the
 * most urgent first; a search, views for one person, pages of 25.
 */
export function caseListPage(router: Router, kit: PageKit): void {
  const { page, handle, pill, timer, service, rules, personOf } = kit
  const queueName = (id: string) => rules.current().queue(id)?.name ?? id
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
}
