import type { Response, Router } from 'express'
import { INTENTS, PRIORITIES } from '../../triage/rulebook/ids.js'
import { triage } from '../../triage/triage.js'
import { html } from './html.js'
import { type Lang, t } from './i18n.js'
import { type PageKit, span } from './page-kit.js'
import { ruleHits } from './rule-hits.js'

/** The rulebook: its state, routing, priorities and queues, and a message tried against it. */
export function rulesPages(router: Router, kit: PageKit): void {
  const { page, handle, classifier } = kit
  const rulesPage = (res: Response, lang: Lang, text: string) => {
    const rulebook = kit.rules.current()
    const state = kit.rules.state()
    const decision = text.trim() ? triage({ text, channel: null }, rulebook, classifier()) : null
    page(
      res,
      lang,
      { title: t(lang, 'rules'), here: '/admin/rules' },
      html`<section><p>${t(lang, 'version')} <code>${state.version}</code> · ${rulebook.dir} ·
${
  state.rejected
    ? html`<span class="t-vencido">${state.rejected.issues.length} ✗</span></p><pre>${state.rejected.issues.map((i) => `${i.file}:${i.line} ${i.field}: ${i.message}`).join('\n')}</pre>`
    : html`<span class="t-normal">${t(lang, 'rulebookValid')} ✓</span></p>`
}
<p class="muted">${INTENTS.join(' · ')}</p></section>
<div class="grid"><section><h2>${t(lang, 'routing')}</h2><ol>${rulebook.routing.map(
        (r) => html`<li><code>${r.id}</code>${r.description ? html` — ${r.description}` : ''}</li>`,
      )}</ol></section>
<section><h2>${t(lang, 'priority')} · SLA</h2><table><tr><th>${t(lang, 'priority')}</th><th>${t(lang, 'firstResponse')}</th><th>${t(lang, 'resolution')}</th></tr>${PRIORITIES.map(
        (id) => [id, rulebook.priority(id)] as const,
      ).map(
        ([id, p]) =>
          html`<tr><td>${id}</td><td>${span(p.first_response)}</td><td>${span(p.resolution)}</td></tr>`,
      )}</table>
<h2>${t(lang, 'queue')}</h2><table>${Object.entries(rulebook.queues).map(
        ([id, q]) =>
          html`<tr><td><code>${id}</code></td><td>${q.name}</td><td>${
            Object.entries(q.inbox)
              .map(([inbox, v]) => `${inbox}: ${JSON.stringify(v)}`)
              .join(' · ') || '—'
          }</td><td>${q.email ?? '—'}</td></tr>`,
      )}</table><p class="muted">FAQ: ${rulebook.faq.answers.size}</p></section></div>
<section><h2>${t(lang, 'tryMessage')}</h2><p class="muted">${t(lang, 'tryHint')}</p>
<form method="post" action="/admin/rules/try"><textarea name="text" id="try-text" required maxlength="8000">${text}</textarea>
<p><button type="submit">${t(lang, 'tryMessage')}</button></p></form>
${
  decision
    ? html`<div id="try-result"><p><strong id="try-intent">${decision.intent}</strong> (${Math.round(decision.confidence * 100)} %) · ${decision.priority} · ${decision.level ?? '—'} · ${decision.queue ?? '—'}${decision.signals.length ? ` · ${decision.signals.join(', ')}` : ''}</p>
<p>${decision.explanation.summary}</p><ul>${decision.explanation.reasons.map((r) => html`<li>${r}</li>`)}</ul>
${ruleHits(decision.explanation.hits, lang)}
<pre>${JSON.stringify(decision, null, 2)}</pre></div>`
    : ''
}</section>`,
    )
  }
  router.get(
    '/rules',
    handle(async (_req, res, lang) => rulesPage(res, lang, '')),
  )
  router.post(
    '/rules/try',
    handle(async (req, res, lang) =>
      rulesPage(res, lang, String(req.body.text ?? '').slice(0, 8000)),
    ),
  )
}
