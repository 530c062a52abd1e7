import type { Router } from 'express'
import { html, raw } from './html.js'
import { type Lang, t, type Word } from './i18n.js'
import { Refused, take } from './outcome.js'
import type { PageKit } from './page-kit.js'
import { type Detail, ticketDetail } from './tickets.js'

/** Escalations: the escalation form with its recommended level, and the active escalations. */
export function escalationPages(router: Router, kit: PageKit): void {
  const { page, handle, pill, timer, service } = kit
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

  router.get(
    '/tickets/:id/escalate',
    handle(async (req, res, lang) => {
      const d = await detailOf(String(req.params.id))
      const tk = d.ticket
      const rec = recommend(d, lang)
      const complaint = [...d.interactions].reverse().find((m) => m.direction === 'inbound')
      page(
        res,
        lang,
        { title: `${t(lang, 'escalate')} ${tk.number}`, here: '/admin/tickets' },
        html`<section><table>
<tr><th>${t(lang, 'customer')}</th><td>${d.contact?.name ?? d.contact?.email ?? d.contact?.phone ?? '—'}</td></tr>
<tr><th>${t(lang, 'complaint')}</th><td>${complaint?.text ?? '—'}</td></tr>
<tr><th>${t(lang, 'rating')}</th><td>${tk.priority}${tk.satisfaction ? ` · ${tk.satisfaction}/5` : ''}</td></tr>
<tr><th>${t(lang, 'currentLevel')}</th><td>${tk.level ?? '—'}</td></tr></table></section>
<section><form method="post" action="/admin/tickets/${tk.id}/escalate" id="escalate-form" data-base-level="${rec.level}">
<label for="reason">${t(lang, 'reason')}</label><select id="reason" name="reason">${REASONS.map(
          (r) => html`<option value="${r.id}" data-level="${r.level}">${t(lang, r.word)}</option>`,
        )}</select>
<label for="other">${t(lang, 'otherText')}</label><input id="other" name="other" maxlength="500">
<label for="level">${t(lang, 'targetLevel')}</label><select id="level" name="level">${[
          'L1',
          'L2',
          'L3',
        ].map(
          (l) =>
            html`<option value="${l}" ${l === rec.level ? raw('selected') : ''}>${l}${l === rec.level ? ` (${t(lang, 'recommended')})` : ''}</option>`,
        )}</select>
<p class="muted" id="why">${t(lang, 'recommended')}: ${rec.level} — ${rec.why}</p>
<label for="notes">${t(lang, 'notesNext')}</label><textarea id="notes" name="notes" maxlength="4000"></textarea>
<p><button type="submit">${t(lang, 'escalate')}</button></p></form></section>`,
      )
    }),
  )

  router.post(
    '/tickets/:id/escalate',
    handle(async (req, res, lang) => {
      const reason = REASONS.find((r) => r.id === req.body.reason)
      if (!reason) throw new Refused(400, 'reason: choose one')
      const other = String(req.body.other ?? '').trim()
      if (reason.id === 'other' && other.length < 3)
        throw new Refused(400, `${t(lang, 'otherText')}`)
      const text =
        reason.id === 'other' ? other : `${t('es', reason.word)}${other ? `: ${other}` : ''}`
      take(
        await service.escalate({
          params: { id: String(req.params.id) },
          query: {},
          body: {
            level: req.body.level,
            reason: text,
            ...(req.body.notes ? { notes: String(req.body.notes) } : {}),
            by: 'consola',
          },
        }),
      )
      res.redirect(303, `/admin/tickets/${req.params.id}?done=escalated`)
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
        html`<section>${
          rows.length
            ? html`<table><tr><th>${t(lang, 'number')}</th><th>${t(lang, 'level')}</th><th>${t(lang, 'reason')}</th><th>${t(lang, 'queue')}</th><th>${t(lang, 'urgency')}</th><th>${t(lang, 'deadline')}</th></tr>${rows.map(
                (e) =>
                  html`<tr><td><a href="/admin/tickets/${e.ticketId}">${e.ticket}</a></td><td>${e.fromLevel ?? '—'} → ${e.toLevel}</td><td>${e.reason}</td><td>${e.queue}</td><td>${pill(e.urgencia)}</td><td>${timer(e.slaDueAt, lang)}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>`,
      )
    }),
  )
}
