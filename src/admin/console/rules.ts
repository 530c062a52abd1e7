import type { Response, Router } from 'express'
import { INTENTS, PRIORITIES } from '../../triage/rulebook/ids.js'
import { triage } from '../../triage/triage.js'
import { html } from './html.js'
import { type Lang, t } from './i18n.js'
import { conditionName, label, reasonText } from './labels.js'
import { type PageKit, span } from './page-kit.js'
import { ruleHits } from './rule-hits.js'

/** The rulebook: its state, routing, priorities and queues, and a message tried against it. */
export function rulesPages(router: Router, kit: PageKit): void {
  const { page, handle, classifier } = kit
  const queueName = (id: string) => kit.rules.current().queue(id)?.name ?? id
  /** A rule's conditions as a reader says them: "intención: queja o pago · monto sobre 500". */
  const conditions = (when: Record<string, unknown>, lang: Lang) =>
    Object.entries(when)
      .map(([key, value]) => {
        const values = (Array.isArray(value) ? value : [value]).map((v) =>
          typeof v === 'boolean' ? (v ? t(lang, 'yes') : t(lang, 'no')) : label(lang, String(v)),
        )
        return `${conditionName(lang, key)}: ${values.join(lang === 'es' ? ' o ' : ' or ')}`
      })
      .join(' · ') || t(lang, 'always')
  const outcome = (then: Record<string, unknown>, lang: Lang) =>
    Object.entries(then)
      .map(([key, value]) => {
        const v = String(value)
        const shown = key === 'queue' ? queueName(v) : label(lang, v)
        return `${conditionName(lang, key)}: ${shown}`
      })
      .join(' · ')
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
<p class="muted">${INTENTS.map((i) => label(lang, i)).join(' · ')}</p></section>
<section><h2>${t(lang, 'routing')}</h2><p class="muted">${t(lang, 'routingHint')}</p>
<table id="routing" class="stack"><thead><tr><th scope="col">#</th><th scope="col">${t(lang, 'ruleWhen')}</th><th scope="col">${t(lang, 'ruleThen')}</th></tr></thead><tbody>${rulebook.routing.map(
        (r, i) =>
          html`<tr><td>${i + 1}. <code>${r.id}</code>${r.description ? html`<br><span class="muted">${r.description}</span>` : ''}</td><td>${conditions(r.when as Record<string, unknown>, lang)}</td><td>${outcome(r.then as Record<string, unknown>, lang)}${r.stop ? html`<br><span class="muted">${t(lang, 'ruleStops')}</span>` : ''}</td></tr>`,
      )}</tbody></table></section>
<div class="grid">
<section><h2>${t(lang, 'escalations')}</h2><table><thead><tr><th scope="col">${t(lang, 'level')}</th><th scope="col">${t(lang, 'queue')}</th><th scope="col">SLA</th><th scope="col">${t(lang, 'notifications')}</th></tr></thead><tbody>${(
        ['L1', 'L2', 'L3'] as const
      ).map((l) => {
        const level = rulebook.escalation.levels[l]
        return html`<tr><td>${l}</td><td>${queueName(level.owner)}</td><td>${span(level.sla)}</td><td>${level.notify.join(', ')}</td></tr>`
      })}</tbody></table></section>
<section><h2>${t(lang, 'priority')} · SLA</h2><table><tr><th>${t(lang, 'priority')}</th><th>${t(lang, 'firstResponse')}</th><th>${t(lang, 'resolution')}</th></tr>${PRIORITIES.map(
        (id) => [id, rulebook.priority(id)] as const,
      ).map(
        ([id, p]) =>
          html`<tr><td>${label(lang, id)}</td><td>${span(p.first_response)}</td><td>${span(p.resolution)}</td></tr>`,
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
    ? html`<div id="try-result"><p><strong id="try-intent">${decision.intent}</strong> (${label(lang, decision.intent)}, ${Math.round(decision.confidence * 100)} %) · ${label(lang, decision.priority)} · ${decision.level ?? '—'} · ${decision.queue ? queueName(decision.queue) : '—'}${decision.signals.length ? ` · ${decision.signals.map((x) => `${x} (${label(lang, x)})`).join(', ')}` : ''}</p>
<ul>${decision.explanation.reasons.map((r) => html`<li>${reasonText(lang, r)}</li>`)}</ul>
${ruleHits(decision.explanation.hits, lang)}
<details><summary>JSON</summary><pre>${JSON.stringify(decision, null, 2)}</pre></details></div>`
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
