import type { Router } from 'express'
import { DateTime } from 'luxon'
import { html } from './html.js'
import { t } from './i18n.js'
import { label } from './labels.js'
import { take } from './outcome.js'
import type { PageKit } from './page-kit.js'

/** The overview: today's traffic, open work, SLA at risk, dead letters, channel health. */
export function overviewPage(router: Router, kit: PageKit): void {
  const { page, handle, when, pill, timer, flashOf, now, timezone, service, db, rules } = kit
  const queueName = (id: string) => rules.current().queue(id)?.name ?? id
  router.get(
    '/',
    handle(async (req, res, lang) => {
      const startOfDay = DateTime.fromMillis(now(), { zone: timezone() }).startOf('day').toMillis()
      const today = await db.all<{ channel: string; intent: string; n: number }>(
        `select m.channel as channel, d.intent as intent, count(*) as n from triage_decisions d
           join messages m on m.id = d.message_id where d.created_at >= ?
          group by m.channel, d.intent order by m.channel, n desc`,
        [startOfDay],
      )
      const { queues } = take(await service.queues())
      const openTickets = take(
        await service.listTickets({
          params: {},
          query: { status: 'open', limit: '500' },
          body: {},
        }),
      ).tickets.filter((tk) => tk.urgency && tk.urgency !== 'normal')
      const escalations = take(
        await service.escalations({ params: {}, query: { active: 'true' }, body: {} }),
      ).escalations.filter((e) => e.urgencia && e.urgencia !== 'normal')
      const dead = Number(
        (await db.get<{ n: number }>(`select count(*) as n from outbox where status = 'dead'`))
          ?.n ?? 0,
      )
      const lastByChannel = new Map(
        (
          await db.all<{ channel: string; at: number }>(
            `select channel, max(received_at) as at from messages where direction = 'inbound'
              group by channel`,
          )
        ).map((r) => [r.channel, Number(r.at)]),
      )
      const { channels, sources } = take(await service.channels())
      const refused = take(
        await service.relays({ params: {}, query: { outcome: 'refused', limit: '10' }, body: {} }),
      ).relays
      page(
        res,
        lang,
        { title: t(lang, 'overview'), here: '/admin', flash: flashOf(req, lang) },
        html`<div class="grid" id="overview" data-live>
<section><h2>${t(lang, 'messagesToday')}</h2>${
          today.length
            ? html`<table><tr><th>${t(lang, 'channel')}</th><th>${t(lang, 'intent')}</th><th>n</th></tr>
${today.map((r) => html`<tr><td>${r.channel}</td><td>${label(lang, r.intent)}</td><td>${r.n}</td></tr>`)}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'openByQueue')}</h2><table><tr><th>${t(lang, 'queue')}</th><th>${t(lang, 'open')}</th><th>${t(lang, 'unanswered')}</th></tr>
${queues.map((q) => html`<tr><td><a href="/admin/tickets?queue=${q.id}&status=open">${q.name}</a></td><td>${q.open}</td><td>${q.unanswered}</td></tr>`)}</table></section>
<section><h2>${t(lang, 'slaAtRisk')}</h2>${
          openTickets.length + escalations.length
            ? html`<table id="at-risk"><thead><tr><th scope="col">${t(lang, 'caseCol')}</th><th scope="col">${t(lang, 'queue')}</th><th scope="col">${t(lang, 'deadline')}</th></tr></thead><tbody>${openTickets.map(
                (tk) =>
                  html`<tr><td><a href="/admin/tickets/${tk.id}">${tk.number}</a> · ${tk.contact.name ?? tk.contact.email ?? tk.contact.phone ?? '—'}<br><span class="muted">${label(lang, tk.type)}${tk.lastMessage ? ` — ${tk.lastMessage.text.slice(0, 80)}` : ''}</span></td><td>${queueName(tk.queue)}${tk.level ? ` · ${tk.level}` : ''}</td><td>${timer(tk.dueAt, lang)} ${pill(tk.urgency, lang)}</td></tr>`,
              )}${escalations.map(
                (e) =>
                  html`<tr><td><a href="/admin/tickets/${e.ticketId}">${e.ticket}</a> → ${e.toLevel}<br><span class="muted">${e.reason}</span></td><td>${queueName(e.queue)}</td><td>${timer(e.slaDueAt, lang)} ${pill(e.urgencia, lang)}</td></tr>`,
              )}</tbody></table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'deadLetters')}</h2><p><a href="/admin/dead-letters"><strong id="dead-count">${dead}</strong></a></p></section>
${
  refused.length
    ? html`<section id="refused-answers"><h2>${t(lang, 'refusedAnswers')}</h2><table><tr><th>${t(lang, 'from')}</th><th>${t(lang, 'reason')}</th><th>${t(lang, 'created')}</th></tr>
${refused.map(
  (r) =>
    html`<tr><td>${r.ticket ? html`<a href="/admin/tickets/${r.ticket.id}">${r.ticket.number}</a> · ` : ''}${r.actor}</td><td>${r.reason ?? ''}</td><td>${when(r.at, lang)}</td></tr>`,
)}</table></section>`
    : ''
}
<section><h2>${t(lang, 'channelHealth')}</h2><table><tr><th>${t(lang, 'channel')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'lastDelivery')}</th></tr>
${channels.map(
  (c) =>
    html`<tr><td>${c.id}</td><td>${
      c.kind === 'notifications'
        ? t(lang, 'sendsOnly')
        : c.inbound === 'enabled'
          ? t(lang, 'on')
          : `${t(lang, 'off')}${c.inbound.replace(/^disabled/, '')}`
    }</td><td>${
      lastByChannel.has(c.id) ? when(lastByChannel.get(c.id)!, lang) : t(lang, 'never')
    }</td></tr>`,
)}
${sources.map((s) => html`<tr><td>${s.name}</td><td>${s.health}</td><td></td></tr>`)}</table></section>
</div>`,
      )
    }),
  )
}
