import type { Router } from 'express'
import { html } from './html.js'
import { t } from './i18n.js'
import { take } from './outcome.js'
import type { PageKit } from './page-kit.js'

/** The dead letter: effects that failed for good, one in full, a replay. */
export function deadLetterPages(router: Router, kit: PageKit): void {
  const { page, handle, flashOf, service } = kit
  router.get(
    '/dead-letters',
    handle(async (req, res, lang) => {
      const rows = take(
        await service.outbox({ params: {}, query: { status: 'dead', limit: '200' }, body: {} }),
      ).effects
      page(
        res,
        lang,
        { title: t(lang, 'deadLetters'), here: '/admin/dead-letters', flash: flashOf(req, lang) },
        html`<section>${
          rows.length
            ? html`<table id="dead-letters"><tr><th>#</th><th>${t(lang, 'type')}</th><th>${t(lang, 'attempts')}</th><th>${t(lang, 'lastError')}</th><th></th></tr>${rows.map(
                (e) =>
                  html`<tr><td><a href="/admin/dead-letters/${e.id}">${e.id}</a></td><td>${e.kind}<br><span class="muted">${e.subject}</span></td><td>${e.attempts}</td><td>${(e.lastError ?? '').slice(0, 200)}</td>
<td><form method="post" action="/admin/dead-letters/${e.id}/replay"><button type="submit">${t(lang, 'replay')}</button></form></td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>`,
      )
    }),
  )

  router.get(
    '/dead-letters/:id',
    handle(async (req, res, lang) => {
      const { effect } = take(
        await service.effect({ params: { id: String(req.params.id) }, query: {}, body: {} }),
      )
      page(
        res,
        lang,
        { title: `${t(lang, 'deadLetters')} #${effect.id}`, here: '/admin/dead-letters' },
        html`<section><p>${effect.kind} · ${effect.status} · ${t(lang, 'attempts')} ${effect.attempts}/${effect.maxAttempts}</p>
<p>${t(lang, 'lastError')}: ${effect.lastError ?? '—'}</p><h2>${t(lang, 'payload')}</h2><pre>${JSON.stringify(effect.payload, null, 2)}</pre>
${effect.status === 'dead' ? html`<form method="post" action="/admin/dead-letters/${effect.id}/replay"><button type="submit">${t(lang, 'replay')}</button></form>` : ''}</section>`,
      )
    }),
  )

  router.post(
    '/dead-letters/:id/replay',
    handle(async (req, res) => {
      take(
        await service.replay({
          params: { id: String(req.params.id) },
          query: {},
          body: { by: kit.actorOf(res) },
        }),
      )
      res.redirect(303, '/admin/dead-letters?done=replayed')
    }),
  )
}
