import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type Request, type Response, Router } from 'express'
import { DateTime } from 'luxon'
import QRCode from 'qrcode'
import type { Source } from '../../contracts/channel.js'
import type { Clock } from '../../kit/clock.js'
import type { Logger } from '../../kit/logger.js'
import type { Db } from '../../store/db.js'
import { type Urgency, urgency } from '../../store/ticket-store.js'
import type { RulebookSource } from '../../triage/rulebook/watch-rulebook.js'
import { type IntentClassifier, triage } from '../../triage/triage.js'
import { monthlyReport, reportCsv } from '../monthly-report.js'
import type { AdminService } from '../service.js'
import { HttpError } from '../service.js'
import { consoleAssets } from './assets.js'
import { sameOrigin } from './guard.js'
import { barChart, html, raw, type Safe } from './html.js'
import { type Lang, t, type Word } from './i18n.js'
import { learningRoutes } from './learning.js'
import { consoleSessionStore, loginThrottle, SESSION_MS } from './sessions.js'

export type ConsoleDeps = {
  db: Db
  clock: Clock
  logger: Logger
  token: string
  service: AdminService
  rules: RulebookSource
  classifier: () => IntentClassifier | null
  sources: readonly Source[]
}

const COOKIE = 'centralita_session'
const LANG_COOKIE = 'centralita_lang'

/** The request's cookies; a value that is not valid percent-encoding is left out. */
function cookies(req: Request): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at <= 0) continue
    try {
      out.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()))
    } catch {
      // URIError: a malformed value is treated as no cookie, not as a server error.
    }
  }
  return out
}

const digest = (value: string) => createHash('sha256').update(value).digest()
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b))

/** "2 h 05 min" / "3 d 4 h". */
function span(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  const mins = minutes % 60
  if (days > 0) return `${days} d ${hours} h`
  if (hours > 0) return `${hours} h ${String(mins).padStart(2, '0')} min`
  return `${mins} min`
}

// No inline script or style: the console's CSS and script are files of its own.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

/**
 * The admin console at `/admin`: server-rendered pages (Spanish, or English with ?lang=en) and
 * one small script file. Signing in with the admin token starts a session of its own (a random
 * value in an HttpOnly, SameSite=Strict cookie; its hash in the database) that signing out
 * ends; sign-in attempts are throttled per address; every state-changing request must come
 * from the console's own origin. Everything goes through the same admin service as the JSON API.
 */
export function adminConsole(deps: ConsoleDeps): Router {
  const router = Router()
  const { db, service } = deps
  const sessions = consoleSessionStore(db)
  const throttle = loginThrottle()
  router.use('/assets', consoleAssets())
  router.use(express.urlencoded({ extended: false, limit: '64kb' }))
  // A form posted from another origin (another site, or another port of this one) is refused
  // before anything else, whatever cookie the browser attached.
  router.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || sameOrigin(req)) return next()
    res
      .status(403)
      .type('text')
      .set('X-Content-Type-Options', 'nosniff')
      .send('forbidden: cross-origin request')
  })

  const langOf = (req: Request, res: Response): Lang => {
    const asked = req.query.lang
    if (asked === 'en' || asked === 'es') {
      res.append(
        'Set-Cookie',
        `${LANG_COOKIE}=${asked}; Path=/admin; SameSite=Strict; Max-Age=31536000`,
      )
      return asked
    }
    return cookies(req).get(LANG_COOKIE) === 'en' ? 'en' : 'es'
  }

  const page = (
    res: Response,
    lang: Lang,
    options: { title: string; here?: string; status?: number; flash?: string | null },
    body: Safe,
  ) => {
    const nav: [string, Word][] = [
      ['/admin', 'overview'],
      ['/admin/tickets', 'tickets'],
      ['/admin/escalations', 'escalations'],
      ['/admin/rules', 'rules'],
      ['/admin/dead-letters', 'deadLetters'],
      ['/admin/whatsapp', 'whatsapp'],
      ['/admin/reports', 'report'],
      ['/admin/learning', 'learning'],
    ]
    res
      .status(options.status ?? 200)
      .type('html')
      .set('Cache-Control', 'no-store')
      .set('Content-Security-Policy', CSP)
      .set('X-Content-Type-Options', 'nosniff')
      .send(
        html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${options.title} · centralita</title><link rel="stylesheet" href="/admin/assets/console.css">
<script src="/admin/assets/console.js" defer></script></head><body>
<header><span class="brand">centralita</span>
${
  options.here === 'login'
    ? ''
    : html`${nav.map(([href, word]) => html`<a href="${href}" class="${options.here === href ? 'here' : ''}">${t(lang, word)}</a>`)}
<a href="?lang=${lang === 'es' ? 'en' : 'es'}">${lang === 'es' ? 'English' : 'Español'}</a>
<form method="post" action="/admin/logout"><button type="submit">${t(lang, 'logout')}</button></form>`
}
</header><main><h1>${options.title}</h1>
${options.flash ? html`<p class="flash" role="status">${options.flash}</p>` : ''}
${body}</main></body></html>`.value,
      )
  }

  const loginForm = (res: Response, lang: Lang, status: number, message: Word) =>
    page(
      res,
      lang,
      { title: t(lang, 'loginTitle'), here: 'login', status },
      html`<section><p class="${status === 401 && message === 'badToken' ? 'flash error' : 'muted'}">${t(lang, message)}</p>
<form method="post" action="/admin/login"><label for="token">${t(lang, 'token')}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">${t(lang, 'login')}</button></form></section>`,
    )

  router.get('/login', (req, res) => loginForm(res, langOf(req, res), 200, 'needLogin'))
  router.post('/login', (req, res) => {
    const lang = langOf(req, res)
    const address = req.ip ?? 'unknown'
    const at = deps.clock.now().getTime()
    const wait = throttle.wait(address, at)
    if (wait > 0) {
      res.set('Retry-After', String(wait))
      return loginForm(res, lang, 429, 'tooManyAttempts')
    }
    const given = typeof req.body?.token === 'string' ? req.body.token : ''
    if (!sameSecret(given, deps.token)) {
      throttle.failed(address, at)
      deps.logger.warn({ address }, 'console sign-in refused')
      return loginForm(res, lang, 401, 'badToken')
    }
    throttle.succeeded(address)
    const token = sessions.start('admin (token)', at)
    // Secure whenever the browser reached the hub over TLS, also through TRUST_PROXY proxies.
    res.append(
      'Set-Cookie',
      `${COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${req.secure ? '; Secure' : ''}`,
    )
    res.redirect(303, '/admin')
  })
  router.post('/logout', (req, res) => {
    const token = cookies(req).get(COOKIE)
    if (token) sessions.end(token)
    res.append(
      'Set-Cookie',
      `${COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${req.secure ? '; Secure' : ''}`,
    )
    res.redirect(303, '/admin/login')
  })

  // Everything else needs a session (or the bearer token, for scripts).
  router.use((req, res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
    const cookie = cookies(req).get(COOKIE)
    if (bearer && sameSecret(bearer, deps.token)) {
      res.locals.actor = 'admin (token)'
      return next()
    }
    const actor = cookie ? sessions.actor(cookie, deps.clock.now().getTime()) : null
    if (actor) {
      res.locals.actor = actor
      return next()
    }
    res.set('WWW-Authenticate', 'Bearer')
    loginForm(res, langOf(req, res), 401, 'needLogin')
  })

  const now = () => deps.clock.now().getTime()
  const calendar = () => deps.rules.current().calendarFor(null)
  const when = (ms: number | null, lang: Lang) =>
    ms === null
      ? '—'
      : DateTime.fromMillis(ms, { zone: calendar().timezone })
          .setLocale(lang)
          .toFormat('d LLL HH:mm')
  const pill = (u: Urgency | null) => (u ? html`<span class="pill u-${u}">${u}</span>` : '')
  /** The SLA timer: time left, or "SLA VENCIDO hace …", coloured by urgency; a script keeps it current. */
  const timer = (due: number | null, lang: Lang) => {
    if (due === null) return html`<span class="muted">${t(lang, 'noDeadline')}</span>`
    const left = due - now()
    const u = urgency(due, now())
    return html`<span class="timer t-${u}" data-due="${due}" data-over="${t(lang, 'slaOverdue')}" data-left="${t(lang, 'slaLeft')}">${
      left <= 0 ? `${t(lang, 'slaOverdue')} ${span(left)}` : `${t(lang, 'slaLeft')} ${span(left)}`
    }</span>`
  }

  const handle =
    (fn: (req: Request, res: Response, lang: Lang) => unknown) =>
    async (req: Request, res: Response) => {
      const lang = langOf(req, res)
      try {
        await fn(req, res, lang)
      } catch (err) {
        if (!(err instanceof HttpError)) {
          deps.logger.error({ err }, 'console page failed')
          throw err
        }
        page(
          res,
          lang,
          { title: String(err.status), status: err.status },
          html`<p class="flash error">${err.message}</p>`,
        )
      }
    }

  // Overview: today's traffic, open work, SLA at risk, dead letters, channel health.
  router.get(
    '/',
    handle((req, res, lang) => {
      const startOfDay = DateTime.fromMillis(now(), { zone: calendar().timezone })
        .startOf('day')
        .toMillis()
      const today = db.$client
        .prepare(
          `select m.channel as channel, d.intent as intent, count(*) as n from triage_decisions d
           join messages m on m.id = d.message_id where d.created_at >= ? group by m.channel, d.intent
           order by m.channel, n desc`,
        )
        .all(startOfDay) as { channel: string; intent: string; n: number }[]
      const queues = service.queues().queues
      const openTickets = service
        .listTickets({ params: {}, query: { status: 'open', limit: '500' }, body: {} })
        .tickets.filter((tk) => tk.urgency && tk.urgency !== 'normal')
      const escalations = service
        .escalations({ params: {}, query: { active: 'true' }, body: {} })
        .escalations.filter((e) => e.urgencia && e.urgencia !== 'normal')
      const dead = (
        db.$client.prepare(`select count(*) as n from outbox where status = 'dead'`).get() as {
          n: number
        }
      ).n
      const lastByChannel = new Map(
        (
          db.$client
            .prepare(
              `select channel, max(received_at) as at from messages where direction = 'inbound' group by channel`,
            )
            .all() as { channel: string; at: number }[]
        ).map((r) => [r.channel, r.at]),
      )
      const { channels, sources } = service.channels()
      const refused = service.relays({
        params: {},
        query: { outcome: 'refused', limit: '10' },
        body: {},
      }).relays
      page(
        res,
        lang,
        { title: t(lang, 'overview'), here: '/admin', flash: flashOf(req, lang) },
        html`<div class="grid">
<section><h2>${t(lang, 'messagesToday')}</h2>${
          today.length
            ? html`<table><tr><th>${t(lang, 'channel')}</th><th>${t(lang, 'intent')}</th><th>n</th></tr>
${today.map((r) => html`<tr><td>${r.channel}</td><td>${r.intent}</td><td>${r.n}</td></tr>`)}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'openByQueue')}</h2><table><tr><th>${t(lang, 'queue')}</th><th>${t(lang, 'open')}</th><th>${t(lang, 'unanswered')}</th></tr>
${queues.map((q) => html`<tr><td><a href="/admin/tickets?queue=${q.id}&status=open">${q.name}</a></td><td>${q.open}</td><td>${q.unanswered}</td></tr>`)}</table></section>
<section><h2>${t(lang, 'slaAtRisk')}</h2>${
          openTickets.length + escalations.length
            ? html`<table>${openTickets.map(
                (tk) =>
                  html`<tr><td><a href="/admin/tickets/${tk.id}">${tk.number}</a></td><td>${tk.queue}</td><td>${pill(tk.urgency)}</td></tr>`,
              )}${escalations.map(
                (e) =>
                  html`<tr><td><a href="/admin/tickets/${e.ticketId}">${e.ticket}</a> → ${e.toLevel}</td><td>${e.queue}</td><td>${pill(e.urgencia)}</td></tr>`,
              )}</table>`
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

  const flashOf = (req: Request, lang: Lang): string | null => {
    const done = req.query.done
    return done === 'escalated'
      ? t(lang, 'escalatedOk')
      : done === 'saved'
        ? t(lang, 'saved')
        : done === 'replayed'
          ? t(lang, 'replayed')
          : null
  }

  router.get(
    '/tickets',
    handle((req, res, lang) => {
      const q = {
        status:
          typeof req.query.status === 'string' && req.query.status ? req.query.status : 'open',
        queue: typeof req.query.queue === 'string' ? req.query.queue : '',
        priority: typeof req.query.priority === 'string' ? req.query.priority : '',
        level: typeof req.query.level === 'string' ? req.query.level : '',
      }
      const query = Object.fromEntries(
        Object.entries({ ...q, limit: '200' }).filter(([, v]) => v && v !== 'all'),
      )
      const { tickets: rows } = service.listTickets({ params: {}, query, body: {} })
      const queues = Object.keys(deps.rules.current().queues)
      const select = (name: string, label: Word, values: string[], current: string) =>
        html`<div><label for="f-${name}">${t(lang, label)}</label><select id="f-${name}" name="${name}">
<option value="all">${t(lang, 'all')}</option>${values.map(
          (v) => html`<option value="${v}" ${v === current ? raw('selected') : ''}>${v}</option>`,
        )}</select></div>`
      page(
        res,
        lang,
        { title: t(lang, 'tickets'), here: '/admin/tickets' },
        html`<section><form class="filters" method="get">
${select('queue', 'queue', queues, q.queue)}
${select('status', 'status', ['open', 'abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver'], q.status)}
${select('priority', 'priority', ['critica', 'alta', 'media', 'baja'], q.priority)}
${select('level', 'level', ['L1', 'L2', 'L3'], q.level)}
<button type="submit">${t(lang, 'filter')}</button></form></section>
<section>${
          rows.length
            ? html`<table><tr><th>${t(lang, 'number')}</th><th>${t(lang, 'queue')}</th><th>${t(lang, 'priority')}</th><th>${t(lang, 'level')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'deadline')}</th></tr>
${rows.map(
  (tk) =>
    html`<tr><td><a href="/admin/tickets/${tk.id}">${tk.number}</a><br><span class="muted">${tk.type}</span></td><td>${tk.queue}</td><td>${tk.priority}</td><td>${tk.level ?? '—'}</td><td>${tk.status}</td><td>${
      tk.urgency
        ? timer(
            tk.firstResponseAt === null
              ? (tk.firstResponseDueAt ?? tk.resolutionDueAt)
              : tk.resolutionDueAt,
            lang,
          )
        : '—'
    }</td></tr>`,
)}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>`,
      )
    }),
  )

  type Detail = ReturnType<AdminService['ticket']>
  const detailOf = (id: string): Detail => service.ticket({ params: { id }, query: {}, body: {} })

  /** Outbox effects about the ticket or its escalations: what was notified, to whom, and how it went. */
  const notificationsOf = (d: Detail) => {
    const subjects = [`ticket:${d.ticket.id}`, ...d.escalations.map((e) => `escalation:${e.id}`)]
    return db.$client
      .prepare(
        `select id, kind, recipient, status, subject, created_at as createdAt from outbox
         where subject in (${subjects.map(() => '?').join(',')}) order by id`,
      )
      .all(...subjects) as {
      id: number
      kind: string
      recipient: string | null
      status: string
      subject: string
      createdAt: number
    }[]
  }

  /**
   * The same person's messages in their other conversations (another channel, or an earlier
   * thread): the same contact, or a contact with the same email address or phone number.
   */
  const elsewhere = (conversationId: number) =>
    db.$client
      .prepare(
        `select m.channel, m.direction, m.author_role as authorRole, m.text, m.subject, m.sent_at as sentAt
         from messages m join contacts c on c.id = m.contact_id,
              (select k.id, k.email, k.phone from conversations v join contacts k on k.id = v.contact_id
               where v.id = @conversation) me
         where m.conversation_id != @conversation
           and (c.id = me.id or (me.email is not null and c.email = me.email)
                or (me.phone is not null and c.phone = me.phone))
         order by m.sent_at desc limit 50`,
      )
      .all({ conversation: conversationId }) as {
      channel: string
      direction: string
      authorRole: string
      text: string
      subject: string | null
      sentAt: number
    }[]

  router.get(
    '/tickets/:id',
    handle((req, res, lang) => {
      const d = detailOf(String(req.params.id))
      const tk = d.ticket
      const latest = d.decisions.at(-1)
      const explanation = latest?.explanation as
        | {
            summary?: string
            reasons?: string[]
            hits?: { target: string; term: string; matched: string; vetoed?: string }[]
            combined?: { intent: string; score: number }[]
          }
        | undefined
      const due =
        tk.firstResponseAt === null
          ? (tk.firstResponseDueAt ?? tk.resolutionDueAt)
          : tk.resolutionDueAt
      const open = tk.status === 'abierto' || tk.status === 'en_proceso'
      const statuses = ['abierto', 'en_proceso', 'resuelto', 'cerrado_sin_resolver']
      page(
        res,
        lang,
        { title: `${tk.number}`, here: '/admin/tickets', flash: flashOf(req, lang) },
        html`<section><p>${tk.type} · ${tk.queue} · ${t(lang, 'priority')} ${tk.priority} · ${t(lang, 'level')} ${tk.level ?? '—'} · ${t(lang, 'status')} <strong id="ticket-status">${tk.status}</strong>
${d.contact ? html` · ${t(lang, 'customer')}: ${d.contact.name ?? d.contact.email ?? d.contact.phone ?? '—'}` : ''}</p>
<p>${t(lang, 'deadline')}: ${open ? timer(due, lang) : '—'} ${pill(tk.urgency)}</p>
${open ? html`<p><a href="/admin/tickets/${tk.id}/escalate">${t(lang, 'escalate')} →</a></p>` : ''}</section>
<div class="grid"><section><h2>${t(lang, 'conversation')}</h2>${[
          ...d.interactions,
          ...elsewhere(d.ticket.conversationId),
        ]
          .sort((a, b) => a.sentAt - b.sentAt)
          .map(
            (m) =>
              html`<div class="msg ${m.direction}"><div class="muted">${m.channel} · ${m.authorRole} · ${when(m.sentAt, lang)}</div>${
                'relayRefused' in m && typeof m.relayRefused === 'string'
                  ? html`<p class="flash error">${t(lang, 'refusedAnswer')}: ${m.relayRefused}</p>`
                  : ''
              }${m.subject ? html`<strong>${m.subject}</strong><br>` : ''}${m.text}</div>`,
          )}</section>
<section><h2>${t(lang, 'decision')}</h2>${
          latest
            ? html`<p><strong>${latest.intent}</strong> (${Math.round(latest.confidence * 100)} %) · ${latest.priority} · ${latest.level ?? '—'} · ${latest.queue ?? '—'} · <a href="/admin/decisions/${latest.id}/correct" id="correct-link">${t(lang, 'correct')}</a></p>
<p>${explanation?.summary ?? ''}</p><ul>${(explanation?.reasons ?? []).map((r) => html`<li>${r}</li>`)}</ul>
${ruleHits(explanation?.hits ?? [], lang)}`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section></div>
<section><h2>${t(lang, 'escalations')}</h2>${
          d.escalations.length
            ? html`<table id="escalations"><tr><th>${t(lang, 'level')}</th><th>${t(lang, 'reason')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'deadline')}</th></tr>${d.escalations.map(
                (e) =>
                  html`<tr><td>${e.fromLevel ?? '—'} → ${e.toLevel}</td><td>${e.reason}${e.notes ? html`<br><span class="muted">${e.notes}</span>` : ''}</td><td>${e.status}</td><td>${e.urgency ? html`${timer(e.slaDueAt, lang)} ${pill(e.urgency)}` : '—'}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        }</section>
<section><h2>${t(lang, 'notifications')}</h2>${(() => {
          const rows = notificationsOf(d)
          return rows.length
            ? html`<table id="notifications"><tr><th>${t(lang, 'type')}</th><th>${t(lang, 'channel')}</th><th>${t(lang, 'status')}</th><th>${t(lang, 'created')}</th></tr>${rows.map(
                (r) =>
                  html`<tr><td>${r.kind}</td><td>${r.recipient ?? '—'}</td><td>${r.status}</td><td>${when(r.createdAt, lang)}</td></tr>`,
              )}</table>`
            : html`<p class="muted">${t(lang, 'none')}</p>`
        })()}</section>
<section><h2>${t(lang, 'actions')}</h2><div class="grid">
<form method="post" action="/admin/tickets/${tk.id}/status"><label for="status">${t(lang, 'changeStatus')}</label>
<select id="status" name="status">${statuses.map((s) => html`<option ${s === tk.status ? raw('selected') : ''}>${s}</option>`)}</select>
<label for="note">${t(lang, 'note')}</label><input id="note" name="note" maxlength="4000">
<p><button type="submit">${t(lang, 'save')}</button></p></form>
<form method="post" action="/admin/tickets/${tk.id}/assign"><label for="assignee">${t(lang, 'assignee')}</label>
<input id="assignee" name="assignee" value="${tk.assignee ?? ''}" maxlength="200" required>
<label for="queue">${t(lang, 'queue')}</label><select id="queue" name="queue">${Object.keys(
          deps.rules.current().queues,
        ).map(
          (q) => html`<option ${q === tk.queue ? raw('selected') : ''}>${q}</option>`,
        )}</select><p><button type="submit">${t(lang, 'assign')}</button></p></form></div></section>`,
      )
    }),
  )

  router.post(
    '/tickets/:id/status',
    handle((req, res) => {
      service.setStatus({
        params: { id: String(req.params.id) },
        query: {},
        body: {
          status: req.body.status,
          ...(req.body.note ? { note: String(req.body.note) } : {}),
          by: 'consola',
        },
      })
      res.redirect(303, `/admin/tickets/${req.params.id}?done=saved`)
    }),
  )

  router.post(
    '/tickets/:id/assign',
    handle((req, res) => {
      service.assign({
        params: { id: String(req.params.id) },
        query: {},
        body: {
          assignee: String(req.body.assignee ?? ''),
          queue: String(req.body.queue ?? ''),
          by: 'consola',
        },
      })
      res.redirect(303, `/admin/tickets/${req.params.id}?done=saved`)
    }),
  )

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
    handle((req, res, lang) => {
      const d = detailOf(String(req.params.id))
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
    handle((req, res, lang) => {
      const reason = REASONS.find((r) => r.id === req.body.reason)
      if (!reason) throw new HttpError(400, 'reason: choose one')
      const other = String(req.body.other ?? '').trim()
      if (reason.id === 'other' && other.length < 3)
        throw new HttpError(400, `${t(lang, 'otherText')}`)
      const text =
        reason.id === 'other' ? other : `${t('es', reason.word)}${other ? `: ${other}` : ''}`
      service.escalate({
        params: { id: String(req.params.id) },
        query: {},
        body: {
          level: req.body.level,
          reason: text,
          ...(req.body.notes ? { notes: String(req.body.notes) } : {}),
          by: 'consola',
        },
      })
      res.redirect(303, `/admin/tickets/${req.params.id}?done=escalated`)
    }),
  )

  router.get(
    '/escalations',
    handle((_req, res, lang) => {
      const rows = service.escalations({
        params: {},
        query: { active: 'true' },
        body: {},
      }).escalations
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

  const rulesPage = (res: Response, lang: Lang, text: string) => {
    const rules = deps.rules.current()
    const state = deps.rules.state()
    const decision = text.trim() ? triage({ text, channel: null }, rules, deps.classifier()) : null
    page(
      res,
      lang,
      { title: t(lang, 'rules'), here: '/admin/rules' },
      html`<section><p>${t(lang, 'version')} <code>${state.version}</code> · ${rules.dir} ·
${
  state.rejected
    ? html`<span class="t-vencido">${state.rejected.issues.length} ✗</span></p><pre>${state.rejected.issues.map((i) => `${i.file}:${i.line} ${i.field}: ${i.message}`).join('\n')}</pre>`
    : html`<span class="t-normal">${t(lang, 'rulebookValid')} ✓</span></p>`
}
<p class="muted">${Object.keys(rules.source.intents.intents).join(' · ')}</p></section>
<div class="grid"><section><h2>${t(lang, 'routing')}</h2><ol>${rules.routing.map(
        (r) => html`<li><code>${r.id}</code>${r.description ? html` — ${r.description}` : ''}</li>`,
      )}</ol></section>
<section><h2>${t(lang, 'priority')} · SLA</h2><table><tr><th>${t(lang, 'priority')}</th><th>${t(lang, 'firstResponse')}</th><th>${t(lang, 'resolution')}</th></tr>${Object.entries(
        rules.source.priorities.priorities,
      ).map(
        ([id, p]) =>
          html`<tr><td>${id}</td><td>${span(p.first_response)}</td><td>${span(p.resolution)}</td></tr>`,
      )}</table>
<h2>${t(lang, 'queue')}</h2><table>${Object.entries(rules.queues).map(
        ([id, q]) =>
          html`<tr><td><code>${id}</code></td><td>${q.name}</td><td>${
            Object.entries(q.inbox)
              .map(([inbox, v]) => `${inbox}: ${JSON.stringify(v)}`)
              .join(' · ') || '—'
          }</td><td>${q.email ?? '—'}</td></tr>`,
      )}</table><p class="muted">FAQ: ${rules.source.faq.faq.length}</p></section></div>
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
    handle((_req, res, lang) => rulesPage(res, lang, '')),
  )
  router.post(
    '/rules/try',
    handle((req, res, lang) => rulesPage(res, lang, String(req.body.text ?? '').slice(0, 8000))),
  )

  learningRoutes(router, {
    page,
    handle,
    when,
    actorOf: (res) => (typeof res.locals.actor === 'string' ? res.locals.actor : 'consola'),
    timezone: () => calendar().timezone,
    now,
    db,
    service,
    queues: () => Object.keys(deps.rules.current().queues),
  })

  router.get(
    '/dead-letters',
    handle((req, res, lang) => {
      const rows = service.outbox({
        params: {},
        query: { status: 'dead', limit: '200' },
        body: {},
      }).effects
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
    handle((req, res, lang) => {
      const { effect } = service.effect({
        params: { id: String(req.params.id) },
        query: {},
        body: {},
      })
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
    handle((req, res) => {
      service.replay({ params: { id: String(req.params.id) }, query: {}, body: { by: 'consola' } })
      res.redirect(303, '/admin/dead-letters?done=replayed')
    }),
  )

  router.get(
    '/whatsapp',
    handle(async (_req, res, lang) => {
      // The session that pairs by QR code (WhatsApp Web's), whichever channel it is.
      const session = deps.sources.find((s) => s.snapshot && 'qr' in s.snapshot())
      const snapshot = session?.snapshot?.() as
        | { state?: string; qr?: string | null; lastError?: string | null }
        | undefined
      const qr = snapshot?.qr
        ? await QRCode.toString(snapshot.qr, { type: 'svg', margin: 2, width: 280 })
        : null
      page(
        res,
        lang,
        { title: t(lang, 'whatsapp'), here: '/admin/whatsapp' },
        html`<section>${
          session
            ? html`<p>${t(lang, 'sessionState')}: <strong>${snapshot?.state ?? session.health()}</strong>${snapshot?.lastError ? html` — ${snapshot.lastError}` : ''}</p>
${qr ? html`<p>${t(lang, 'scanQr')}</p><div id="qr">${raw(qr)}</div>` : ''}
${snapshot?.state === 'ready' ? '' : html`<span data-reload-ms="5000"></span>`}`
            : html`<p class="muted">${t(lang, 'notWeb')}</p>`
        }</section>`,
      )
    }),
  )

  const monthOf = (req: Request) =>
    typeof req.query.month === 'string' && /^\d{4}-\d{2}$/.test(req.query.month)
      ? req.query.month
      : DateTime.fromMillis(now(), { zone: calendar().timezone }).toFormat('yyyy-MM')

  router.get(
    '/reports',
    handle((req, res, lang) => {
      const month = monthOf(req)
      const r = monthlyReport(db, month, calendar().timezone)
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
    handle((req, res) => {
      const month = monthOf(req)
      res
        .type('text/csv')
        .set('Content-Disposition', `attachment; filename="centralita-${month}.csv"`)
        .send(reportCsv(monthlyReport(db, month, calendar().timezone)))
    }),
  )

  return router
}

/**
 * The rule hits of a decision: each match once (several terms often find the same words), and
 * the ones a negation or an exception set aside apart, so a negated threat does not read as one.
 */
function ruleHits(
  hits: readonly { target: string; matched: string; vetoed?: string }[],
  lang: Lang,
) {
  const once = (items: string[]) => [...new Set(items)]
  const fired = once(hits.filter((h) => !h.vetoed).map((h) => `${h.target}: “${h.matched}”`))
  const aside = once(
    hits.flatMap((h) => (h.vetoed ? [`${h.target}: “${h.matched}” (${h.vetoed})`] : [])),
  )
  return html`${fired.length ? html`<p class="muted" id="rules-fired">${t(lang, 'rulesFired')}: ${fired.join(' · ')}</p>` : ''}${aside.length ? html`<p class="muted" id="rules-set-aside">${t(lang, 'setAside')}: ${aside.join(' · ')}</p>` : ''}`
}
