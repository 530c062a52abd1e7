import type { Router } from 'express'
import { DateTime } from 'luxon'
import { currentJudgement, listCorrections } from '../../learning/corrections.js'
import { correctedRules, weeklyCorrections } from '../../learning/learning-report.js'
import type { ModelView } from '../../learning/model-store.js'
import type { Measure, RetrainMetrics } from '../../learning/retrain.js'
import { INTENTS, LEVELS, SIGNALS } from '../../triage/rulebook/ids.js'
import { html, raw } from './html.js'
import { type Lang, t } from './i18n.js'
import { Refused, take } from './outcome.js'
import type { PageKit } from './page-kit.js'

const WEEKS = 8

/**
 * The learning pages: correcting a decision (`/admin/decisions/:id/correct`), and the
 * learning overview (`/admin/learning`): the model in use and its history with a retrain and a
 * rollback, corrections per intent and week, the rules people keep correcting, the corrected
 * examples and their export.
 */
export function learningRoutes(router: Router, kit: PageKit): void {
  const { db, service } = kit

  router.get(
    '/decisions/:id/correct',
    kit.handle(async (req, res, lang) => {
      const id = Number(req.params.id)
      const row = Number.isInteger(id)
        ? await db.get<{
            id: number
            at: number
            text: string
            subject: string | null
            channel: string
            ticket: number | null
          }>(
            `select d.id as id, d.created_at as at, m.text as text, m.subject as subject,
                    m.channel as channel,
                    (select max(t.id) from tickets t where t.conversation_id = d.conversation_id)
                      as ticket
               from triage_decisions d join messages m on m.id = d.message_id where d.id = ?`,
            [id],
          )
        : undefined
      const current = row ? await currentJudgement(db, row.id) : null
      if (!row || !current) throw new Refused(404, `decision ${req.params.id} not found`)
      const done = req.query.done
      const flash =
        done === 'corrected'
          ? t(lang, 'corrected')
          : done === 'unchanged'
            ? t(lang, 'unchanged')
            : null
      const option = (value: string, chosen: string | null, label = value) =>
        html`<option value="${value}" ${value === (chosen ?? '') ? raw('selected') : ''}>${label}</option>`
      kit.page(
        res,
        lang,
        { title: `${t(lang, 'correctTitle')} #${row.id}`, here: '/admin/learning', flash },
        html`<section><p class="muted">${row.channel} · ${kit.when(row.at, lang)}${
          row.ticket !== null
            ? html` · <a href="/admin/tickets/${row.ticket}">${t(lang, 'tickets')} →</a>`
            : ''
        }</p><div class="msg inbound" id="correct-text">${row.subject ? html`<strong>${row.subject}</strong><br>` : ''}${row.text}</div></section>
<section><p class="muted">${t(lang, 'correctHint')}</p>
<form method="post" action="/admin/decisions/${row.id}/correct" id="correct-form">
<label for="intent">${t(lang, 'intent')}</label><select id="intent" name="intent">${INTENTS.map((i) => option(i, current.intent))}</select>
<fieldset><legend>${t(lang, 'signals')}</legend>${SIGNALS.map(
          (s) =>
            html`<label><input type="checkbox" name="signals" value="${s}" ${current.signals.includes(s) ? raw('checked') : ''}> ${s}</label> `,
        )}</fieldset>
<label for="level">${t(lang, 'level')}</label><select id="level" name="level">${option('', current.level, t(lang, 'noneLevel'))}${LEVELS.map((l) => option(l, current.level))}</select>
<label for="queue">${t(lang, 'queue')}</label><select id="queue" name="queue">${option('', current.queue, t(lang, 'noQueue'))}${kit.queues().map((q) => option(q, current.queue))}</select>
<p><button type="submit">${t(lang, 'correct')}</button></p></form></section>`,
      )
    }),
  )

  router.post(
    '/decisions/:id/correct',
    kit.handle(async (req, res) => {
      const body = req.body as Record<string, unknown>
      const signals = body.signals === undefined ? [] : [body.signals].flat()
      const result = take(
        await service.correct({
          params: { id: String(req.params.id) },
          query: {},
          body: {
            intent: body.intent,
            signals,
            level: body.level === '' || body.level === undefined ? null : body.level,
            queue: body.queue === '' || body.queue === undefined ? null : body.queue,
            by: kit.actorOf(res),
            source: 'console',
          },
        }),
      )
      res.redirect(
        303,
        `/admin/decisions/${req.params.id}/correct?done=${result.outcome === 'recorded' ? 'corrected' : 'unchanged'}`,
      )
    }),
  )

  router.get(
    '/learning',
    kit.handle(async (req, res, lang) => {
      const { active, models } = take(await service.models())
      const activeRow = models.find((m) => m.id === active)
      const weeks = weekRanges(kit.now(), kit.timezone())
      const [counts, rules, examples, recent] = await Promise.all([
        weeklyCorrections(db, weeks),
        correctedRules(db, weeks[0]!.start),
        listCorrections(db, { limit: 30 }),
        db.all<{ id: number; intent: string; at: number; text: string }>(
          `select d.id as id, d.intent as intent, d.created_at as at, m.text as text
             from triage_decisions d join messages m on m.id = d.message_id
            order by d.id desc limit 20`,
        ),
      ])
      const intents = [...new Set(counts.flatMap((w) => [...w.intents.keys()]))].sort()
      // What the last button did: a training (shown from its row), nothing new, a rollback.
      const done = req.query.done
      const trained = models.find((m) => String(m.id) === req.query.model)
      const flash = trained
        ? `#${trained.id} ${t(lang, trained.status === 'refused' ? 'refused' : 'adopted')}: ${trained.reason}`
        : done === 'nothing'
          ? t(lang, 'nothingNew')
          : done === 'rolledback'
            ? t(lang, 'rolledBack')
            : null
      const cut = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}…` : text)
      kit.page(
        res,
        lang,
        { title: t(lang, 'learning'), here: '/admin/learning', flash },
        html`<section><h2>${t(lang, 'modelInUse')}</h2><p id="model-in-use">${
          activeRow
            ? html`<strong>#${activeRow.id}</strong> · ${kit.when(activeRow.activatedAt, lang)} · ${activeRow.corrections} ${t(lang, 'correctedExamples').toLowerCase()} · ${activeRow.reason}`
            : t(lang, 'corpusModel')
        }</p><div class="grid">
<form method="post" action="/admin/learning/retrain"><button type="submit">${t(lang, 'retrainNow')}</button></form>
${activeRow ? html`<form method="post" action="/admin/learning/rollback"><button type="submit">${t(lang, 'rollback')}</button></form>` : ''}</div></section>
<section><h2>${t(lang, 'modelHistory')}</h2>${history(models, lang, kit)}</section>
<section><h2>${t(lang, 'liveAccuracy')}</h2>${
          intents.length
            ? html`<table id="live-accuracy"><tr><th>${t(lang, 'intent')}</th>${weeks.map((w) => html`<th>${DateTime.fromMillis(w.start, { zone: kit.timezone() }).toFormat('dd/LL')}</th>`)}</tr>${intents.map(
                (intent) =>
                  html`<tr><td>${intent}</td>${counts.map((w) => {
                    const c = w.intents.get(intent)
                    return c
                      ? html`<td title="${c.corrected}/${c.decided}">${Math.round((100 * (c.decided - c.corrected)) / c.decided)} % <span class="muted">(${c.corrected}/${c.decided})</span></td>`
                      : html`<td class="muted">—</td>`
                  })}</tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'correctedRules')}</h2>${
          rules.length
            ? html`<ul id="corrected-rules">${rules.map(
                (r) =>
                  html`<li><code>${r.group}:${r.target}</code> “${r.term}” ${t(lang, 'ruleCorrected').replace('{fired}', String(r.fired)).replace('{corrected}', String(r.corrected))}</li>`,
              )}</ul>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'correctedExamples')}</h2><p><a href="/admin/learning/corrections.jsonl">${t(lang, 'exportJsonl')}</a></p>${
          examples.length
            ? html`<table id="corrections"><tr><th>${t(lang, 'when')}</th><th>${t(lang, 'who')}</th><th>${t(lang, 'message')}</th><th>${t(lang, 'decided')}</th><th>${t(lang, 'correctedTo')}</th></tr>${examples.map(
                (c) =>
                  html`<tr><td>${kit.when(Date.parse(c.at), lang)}</td><td>${c.actor} <span class="muted">(${c.source})</span></td><td>${cut(c.text, 160)}</td><td>${c.decided.intent}${c.decided.signals.length ? ` · ${c.decided.signals.join(', ')}` : ''} · ${c.decided.level ?? '—'} · ${c.decided.queue ?? '—'}</td><td>${Object.entries(
                    c.corrected,
                  )
                    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') || '—' : (v ?? '—')}`)
                    .join(' · ')}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'recentDecisions')}</h2><table id="recent-decisions">${recent.map(
          (d) =>
            html`<tr><td>${kit.when(d.at, lang)}</td><td>${d.intent}</td><td>${cut(d.text, 120)}</td><td><a href="/admin/decisions/${d.id}/correct">${t(lang, 'correct')}</a></td></tr>`,
        )}</table></section>`,
      )
    }),
  )

  router.post(
    '/learning/retrain',
    kit.handle(async (_req, res) => {
      const outcome = take(
        await service.retrain({
          params: {},
          query: { wait: 'true' },
          body: { by: kit.actorOf(res) },
        }),
      ) as { modelId?: number }
      res.redirect(
        303,
        outcome.modelId === undefined
          ? '/admin/learning?done=nothing'
          : `/admin/learning?model=${outcome.modelId}`,
      )
    }),
  )

  router.post(
    '/learning/rollback',
    kit.handle(async (_req, res) => {
      take(await service.rollback({ params: {}, query: {}, body: { by: kit.actorOf(res) } }))
      res.redirect(303, '/admin/learning?done=rolledback')
    }),
  )

  router.get(
    '/learning/corrections.jsonl',
    kit.handle(async (_req, res) => {
      res.type('application/x-ndjson')
      res.set('Content-Disposition', 'attachment; filename="centralita-corrections.jsonl"')
      for (const c of await listCorrections(db, { since: 0 })) res.write(`${JSON.stringify(c)}\n`)
      res.end()
    }),
  )
}

/** The last `WEEKS` weeks (Monday to Monday in the business time zone), oldest first. */
function weekRanges(now: number, zone: string): { start: number; end: number }[] {
  const monday = DateTime.fromMillis(now, { zone }).startOf('week')
  return Array.from({ length: WEEKS }, (_, i) => {
    const start = monday.minus({ weeks: WEEKS - 1 - i })
    return { start: start.toMillis(), end: start.plus({ weeks: 1 }).toMillis() }
  })
}

function history(models: readonly ModelView[], lang: Lang, kit: PageKit) {
  if (models.length === 0) return html`<p class="muted">${t(lang, 'none')}</p>`
  const score = (m: Measure) =>
    m.rows === 0
      ? '—'
      : `${Math.round((1000 * m.correct) / m.rows) / 10} % (${m.correct}/${m.rows})`
  return html`<table id="models"><tr><th>#</th><th>${t(lang, 'when')}</th><th>${t(lang, 'who')}</th><th>${t(lang, 'status')}</th><th>corpus</th><th>${t(lang, 'correctedExamples')}</th><th>${t(lang, 'reason')}</th></tr>${models.map(
    (m) => {
      const metrics = m.metrics as RetrainMetrics
      return html`<tr class="model-${m.status}"><td>${m.id}</td><td>${kit.when(m.createdAt, lang)}</td><td>${m.by}</td><td><strong>${m.status}</strong></td><td>${score(metrics.corpus.candidate)} / ${score(metrics.corpus.reference)}</td><td>${score(metrics.corrections.candidate)} / ${score(metrics.corrections.reference)}</td><td>${m.reason}</td></tr>`
    },
  )}</table>`
}
