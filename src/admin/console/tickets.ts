import { randomBytes } from 'node:crypto'
import type { Request, Response, Router } from 'express'
import { firstName, renderTemplate } from '../../actions/render-template.js'
import { mayOwn } from '../people.js'
import type { AdminService } from '../service/index.js'
import { caseStory, customerOf } from './case-story.js'
import { whyHere } from './case-why.js'
import { html, raw } from './html.js'
import { type Lang, t, tf } from './i18n.js'
import { label, reasonText } from './labels.js'
import { Refused, refusalText, take } from './outcome.js'
import type { PageKit } from './page-kit.js'
import { ruleHits } from './rule-hits.js'

/** A ticket with its whole story, as the admin service gives it. */
export type Detail = Extract<Awaited<ReturnType<AdminService['ticket']>>, { body: unknown }>['body']

export const ticketDetail = async (service: AdminService, id: string): Promise<Detail> =>
  take(await service.ticket({ params: { id }, query: {}, body: {} }))

/** The longest note or reply the hub keeps. */
const MAX_TEXT = 4000

/** A form's problem: which field, and what to say next to it. */
type Problem = { field: string; message: string }

/** A case: its story, what people do to it. */
export function ticketPages(router: Router, kit: PageKit): void {
  const { page, handle, pill, timer, flashOf, service, rules, personOf } = kit
  const queueName = (id: string) => rules.current().queue(id)?.name ?? id
  const { whySentence, timeline } = caseStory(kit)

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
