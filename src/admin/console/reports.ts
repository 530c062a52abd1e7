import type { Request, Router } from 'express'
import { DateTime } from 'luxon'
import { monthlyReport, reportCsv } from '../monthly-report.js'
import { barChart, html } from './html.js'
import { t, type Word } from './i18n.js'
import type { PageKit } from './page-kit.js'

/** The monthly report, as charts and as CSV. */
export function reportPages(router: Router, kit: PageKit): void {
  const { page, handle, now, timezone, db } = kit
  const monthOf = (req: Request) =>
    typeof req.query.month === 'string' && /^\d{4}-\d{2}$/.test(req.query.month)
      ? req.query.month
      : DateTime.fromMillis(now(), { zone: timezone() }).toFormat('yyyy-MM')

  router.get(
    '/reports',
    handle(async (req, res, lang) => {
      const month = monthOf(req)
      const r = await monthlyReport(db, month, timezone())
      const bars = (counts: { key: string; n: number }[]) =>
        barChart(counts.map((c) => ({ label: c.key, value: c.n })))
      const timing = (label: Word, x: typeof r.firstResponse, hours: boolean) =>
        html`<section><h2>${t(lang, label)}</h2><p>${x.done}/${x.tickets} · ${t(lang, 'median')} ${
          x.medianMinutes === null
            ? '—'
            : hours
              ? `${Math.round((x.medianMinutes / 60) * 10) / 10} h`
              : `${x.medianMinutes} min`
        } · <strong>${x.withinSlaPercent ?? '—'} %</strong> ${t(lang, 'withinSla')}</p>
${barChart([
  { label: t(lang, 'withinSla'), value: x.withinSla },
  { label: '> SLA', value: x.done - x.withinSla },
])}</section>`
      page(
        res,
        lang,
        { title: `${t(lang, 'report')} ${month}`, here: '/admin/reports' },
        html`<section><form class="filters" method="get"><div><label for="month">${t(lang, 'month')}</label>
<input id="month" name="month" type="month" value="${month}"></div><button type="submit">${t(lang, 'show')}</button>
<a href="/admin/reports.csv?month=${month}">${t(lang, 'downloadCsv')}</a></form></section>
<div class="grid"><section><h2>${t(lang, 'requests')} (${r.requests.total})</h2>${bars(r.requests.byIntent)}</section>
<section><h2>${t(lang, 'channel')}</h2>${bars(r.requests.byChannel)}</section>
${timing('firstResponse', r.firstResponse, false)}${timing('resolution', r.resolution, true)}
<section><h2>${t(lang, 'escalations')} (${r.escalations.total})</h2>${bars(r.escalations.byLevel)}</section>
<section><h2>${t(lang, 'satisfaction')} (${r.satisfaction.average ?? '—'} / 5)</h2>${bars(r.satisfaction.byScore)}</section>
<section><h2>${t(lang, 'recurring')}</h2>${bars(r.recurring.topics)}<p>${r.recurring.repeatComplainers} ${t(lang, 'repeatComplainers')}</p></section></div>`,
      )
    }),
  )

  router.get(
    '/reports.csv',
    handle(async (req, res) => {
      const month = monthOf(req)
      res
        .type('text/csv')
        .set('Content-Disposition', `attachment; filename="centralita-${month}.csv"`)
        .send(reportCsv(await monthlyReport(db, month, timezone())))
    }),
  )
}
