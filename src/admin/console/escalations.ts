import type { Request, Response, Router } from 'express'
import { html, raw } from './html.js'
import { type Lang, t, tf, type Word } from './i18n.js'
import { label } from './labels.js'
import { Refused, refusalText, take } from './outcome.js'
import type { PageKit } from './page-kit.js'
import { type Detail, ticketDetail } from './tickets.js'

/** Escalations: the escalation form with its recommended level, and the active escalations. */
export function escalationPages(router: Router, kit: PageKit): void {
  const { page, handle, pill, timer, service, personOf } = kit
  const detailOf = (id: string) => ticketDetail(service, id)
  // The escalation form (ARCHITECTURE.md §1): the case, the reason, the target level with the
  // recommended one selected and why, notes for the next level.
  const REASONS: { id: string; word: Word; level: 'L2' | 'L3' }[] = [
    { id: 'amount', word: 'reasonAmount', level: 'L2' },
    { id: 'damage', word: 'reasonDamage', level: 'L2' },
    { id: 'supervisor', word: 'reasonSupervisor', level: 'L2' },
    { id: 'legal', word: 'reasonLegal', level: 'L3' },
    { id: 'other', word: 'reasonOther', level: 'L2' },
  ]
  const nextLevel = (level: string | null) =>
    level === 'L2' || level === 'L3' ? 'L3' : level === 'L1' ? 'L2' : 'L1'
  const recommend = (d: Detail, lang: Lang): { level: string; why: string } => {
    const latest = d.decisions.at(-1)
    const signals = (latest?.signals as string[] | undefined) ?? []
    if (
      signals.some((s) => ['legal_threat', 'property_damage', 'injury', 'media_threat'].includes(s))
    )
      return {
        level: 'L3',
        why:
          lang === 'es'
            ? `señal de nivel 3 en el mensaje (${signals.join(', ')})`
            : `level 3 signal in the message (${signals.join(', ')})`,
      }
    const next = nextLevel(d.ticket.level)
    return {
      level: next,
      why:
        lang === 'es'
          ? `siguiente nivel después de ${d.ticket.level ?? 'ninguno'}`
          : `next level after ${d.ticket.level ?? 'none'}`,
    }
  }

  type Kept = { reason?: string; other?: string; level?: string; notes?: string }
  const levelsAbove = (level: string | null) =>
    ['L1', 'L2', 'L3'].filter((l) => level === null || l > level)

  /** The form; with `problem`, as it was sent, and what is wrong next to its field. */
  const escalationForm = async (
    req: Request,
    res: Response,
    lang: Lang,
    kept: Kept = {},
    problem?: { field: string; message: string },
  ) => {
    const d = await detailOf(String(req.params.id))
    const tk = d.ticket
    const rec = recommend(d, lang)
    const levels = levelsAbove(tk.level)
    const chosen = kept.level ?? rec.level
    const complaint = [...d.interactions].reverse().find((m) => m.direction === 'inbound')
    const err = (field: string) =>
      problem?.field === field
        ? html`<p class="field-error" id="${field}-error" role="alert">${problem.message}</p>`
        : ''
    const invalid = (field: string) =>
      problem?.field === field ? raw(`aria-invalid="true" aria-describedby="${field}-error"`) : ''
    page(
      res,
      lang,
      {
        title: `${t(lang, 'escalate')} ${tk.number}`,
        here: '/admin/tickets',
        ...(problem ? { status: 400 } : {}),
      },
      html`<section><table>
<tr><th scope="row">${t(lang, 'customer')}</th><td>${d.contact?.name ?? d.contact?.email ?? d.contact?.phone ?? '—'}</td></tr>
<tr><th scope="row">${t(lang, 'complaint')}</th><td>${complaint?.text ?? '—'}</td></tr>
<tr><th scope="row">${t(lang, 'rating')}</th><td>${label(lang, tk.priority)}${tk.satisfaction ? ` · ${tk.satisfaction}/5` : ''}</td></tr>
<tr><th scope="row">${t(lang, 'currentLevel')}</th><td>${tk.level ?? '—'}</td></tr></table></section>
<section>${
        levels.length === 0
          ? html`<p class="flash">${t(lang, 'topLevel')}</p>`
          : html`<form method="post" action="/admin/tickets/${tk.id}/escalate" id="escalate-form" data-base-level="${levels.includes(rec.level) ? rec.level : levels[0]}" novalidate>
<label for="reason">${t(lang, 'reason')}</label><select id="reason" name="reason" ${invalid('reason')}>${REASONS.map(
              (r) =>
                html`<option value="${r.id}" data-level="${r.level}" ${r.id === kept.reason ? raw('selected') : ''}>${t(lang, r.word)}</option>`,
            )}</select>${err('reason')}
<label for="other">${t(lang, 'otherText')}</label><input id="other" name="other" maxlength="500" value="${kept.other ?? ''}" ${invalid('other')}>${err('other')}
<label for="level">${t(lang, 'targetLevel')}</label><select id="level" name="level" ${invalid('level')}>${levels.map(
              (l) =>
                html`<option value="${l}" ${l === chosen ? raw('selected') : ''}>${l}${l === rec.level ? ` (${t(lang, 'recommended')})` : ''}</option>`,
            )}</select>${err('level')}
<p class="muted" id="why">${t(lang, 'recommended')}: ${rec.level} — ${rec.why}</p>
<label for="notes">${t(lang, 'notesNext')}</label><textarea id="notes" name="notes" ${invalid('notes')}>${kept.notes ?? ''}</textarea>${err('notes')}
<p><button type="submit">${t(lang, 'escalate')}</button></p></form>`
      }</section>`,
    )
  }

  router.get(
    '/tickets/:id/escalate',
    handle((req, res, lang) => escalationForm(req, res, lang)),
  )

  router.post(
    '/tickets/:id/escalate',
    handle(async (req, res, lang) => {
      const field = (name: string) =>
        typeof req.body?.[name] === 'string' ? (req.body[name] as string) : ''
      const kept: Kept = {
        reason: field('reason'),
        other: field('other'),
        level: field('level'),
        notes: field('notes'),
      }
      const reason = REASONS.find((r) => r.id === kept.reason)
      const other = (kept.other ?? '').trim()
      const problem = !reason
        ? { field: 'reason', message: t(lang, 'reason') }
        : reason.id === 'other' && other.length < 3
          ? { field: 'other', message: t(lang, 'otherNeeded') }
          : (kept.notes ?? '').length > 4000
            ? {
                field: 'notes',
                message: tf(lang, 'tooLong', { n: (kept.notes ?? '').length }),
              }
            : null
      if (problem || !reason) return escalationForm(req, res, lang, kept, problem ?? undefined)
      const text =
        reason.id === 'other' ? other : `${t('es', reason.word)}${other ? `: ${other}` : ''}`
      try {
        take(
          await service.escalate({
            params: { id: String(req.params.id) },
            query: {},
            body: {
              level: kept.level,
              reason: text,
              ...(kept.notes?.trim() ? { notes: kept.notes.trim() } : {}),
            },
            actor: personOf(res),
          }),
        )
      } catch (err) {
        if (!(err instanceof Refused) || err.status === 404) throw err
        return escalationForm(req, res, lang, kept, {
          field: 'level',
          message: refusalText(lang, err.message),
        })
      }
      res.redirect(303, `/admin/tickets/${req.params.id}?done=escalated`)
    }),
  )

  // Taking an escalation: only the level's owner (or above) may; the page says so otherwise.
  router.post(
    '/escalations/:id/accept',
    handle(async (req, res) => {
      const { escalation } = take(
        await service.acceptEscalation({
          params: { id: String(req.params.id) },
          query: {},
          body: {},
          actor: personOf(res),
        }),
      )
      res.redirect(303, `/admin/tickets/${escalation.ticketId}?done=accepted`)
    }),
  )

  router.get(
    '/escalations',
    handle(async (_req, res, lang) => {
      const rows = take(
        await service.escalations({ params: {}, query: { active: 'true' }, body: {} }),
      ).escalations
      page(
        res,
        lang,
        { title: t(lang, 'escalations'), here: '/admin/escalations' },
        html`<section id="escalation-list" data-live>${
          rows.length
            ? html`<table class="stack"><thead><tr><th scope="col">${t(lang, 'number')}</th><th scope="col">${t(lang, 'level')}</th><th scope="col">${t(lang, 'reason')}</th><th scope="col">${t(lang, 'queue')}</th><th scope="col">${t(lang, 'urgency')}</th><th scope="col">${t(lang, 'deadline')}</th></tr></thead><tbody>${rows.map(
                (e) =>
                  html`<tr><td><a href="/admin/tickets/${e.ticketId}">${e.ticket}</a></td><td>${e.fromLevel ?? '—'} → ${e.toLevel}</td><td>${e.reason}<br><span class="muted">${label(lang, e.status)} · ${e.escalatedBy}</span></td><td>${e.queue}</td><td>${pill(e.urgencia, lang)}</td><td>${timer(e.slaDueAt, lang)}</td></tr>`,
              )}</tbody></table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>`,
      )
    }),
  )
}
