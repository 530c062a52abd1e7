import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type Request, type Response, Router } from 'express'
import { DateTime } from 'luxon'
import { type Urgency, urgency } from '../../cases/case-rules.js'
import type { Source } from '../../contracts/channel.js'
import type { Clock } from '../../kit/clock.js'
import type { Logger } from '../../kit/logger.js'
import type { Sql } from '../../store/sql.js'
import type { RulebookSource } from '../../triage/rulebook/watch-rulebook.js'
import type { IntentClassifier } from '../../triage/triage.js'
import { actorName, type Person, passwordProblem, peopleStore, TOKEN_PERSON } from '../people.js'
import type { AdminService } from '../service/index.js'
import { consoleAssets } from './assets.js'
import { caseListPage } from './case-list.js'
import { deadLetterPages } from './dead-letters.js'
import { escalationPages } from './escalations.js'
import { sameOrigin } from './guard.js'
import { html, raw, type Safe } from './html.js'
import { type Lang, t, type Word } from './i18n.js'
import { label } from './labels.js'
import { learningRoutes } from './learning.js'
import type { LiveCases } from './live.js'
import { Refused, refusalText } from './outcome.js'
import { overviewPage } from './overview.js'
import { type PageKit, span } from './page-kit.js'
import { reportPages } from './reports.js'
import { rulesPages } from './rules.js'
import { consoleSessionStore, loginThrottle, SESSION_MS } from './sessions.js'
import { ticketPages } from './tickets.js'
import { whatsappPage } from './whatsapp.js'

export type ConsoleDeps = {
  db: Sql
  clock: Clock
  logger: Logger
  token: string
  service: AdminService
  rules: RulebookSource
  classifier: () => IntentClassifier | null
  sources: readonly Source[]
  live: LiveCases
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
  const people = peopleStore(db)
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
<script src="/admin/assets/console.js" defer></script></head><body data-now="${deps.clock.now().getTime()}">
<header><span class="brand">centralita</span>
${
  options.here === 'login'
    ? ''
    : html`<nav aria-label="${t(lang, 'sections')}">${nav.map(([href, word]) => html`<a href="${href}" ${options.here === href ? raw('class="here" aria-current="page"') : ''}>${t(lang, word)}</a>`)}</nav>
<a href="?lang=${lang === 'es' ? 'en' : 'es'}" lang="${lang === 'es' ? 'en' : 'es'}">${lang === 'es' ? 'English' : 'Español'}</a>
${res.locals.person ? html`<span class="who" id="who">${(res.locals.person as Person).name} · ${t(lang, `role_${(res.locals.person as Person).role}`)}</span>` : ''}
<form method="post" action="/admin/logout"><button type="submit">${t(lang, 'logout')}</button></form>`
}
</header><main><h1>${options.title}</h1>
${options.flash ? html`<p class="flash" role="status">${options.flash}</p>` : ''}
${body}</main></body></html>`.value,
      )
  }

  const loginForm = (res: Response, lang: Lang, status: number, message: Word, email = '') =>
    page(
      res,
      lang,
      { title: t(lang, 'loginTitle'), here: 'login', status },
      html`<section><p class="${status === 401 && message !== 'needLogin' ? 'flash error' : 'muted'}" role="${status === 401 ? 'alert' : 'status'}">${t(lang, message)}</p>
<form method="post" action="/admin/login" id="login-form"><label for="email">${t(lang, 'email')}</label>
<input id="email" name="email" type="email" autocomplete="username" value="${email}" required>
<label for="password">${t(lang, 'password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${t(lang, 'login')}</button></form></section>
<section><h2>${t(lang, 'tokenSignIn')}</h2><form method="post" action="/admin/login" id="token-form"><label for="token">${t(lang, 'token')}</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">${t(lang, 'login')}</button></form></section>`,
    )

  /** Starts the person's session: the cookie, then the overview. */
  const signedIn = async (req: Request, res: Response, who: Person) => {
    const token = await sessions.start(who, deps.clock.now().getTime())
    // Secure whenever the browser reached the hub over TLS, also through TRUST_PROXY proxies.
    res.append(
      'Set-Cookie',
      `${COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${req.secure ? '; Secure' : ''}`,
    )
    res.redirect(303, '/admin')
  }

  router.get('/login', (req, res) => loginForm(res, langOf(req, res), 200, 'needLogin'))
  router.post('/login', async (req, res, next) => {
    const lang = langOf(req, res)
    const address = req.ip ?? 'unknown'
    const at = deps.clock.now().getTime()
    const wait = throttle.wait(address, at)
    if (wait > 0) {
      res.set('Retry-After', String(wait))
      return loginForm(res, lang, 429, 'tooManyAttempts')
    }
    const field = (name: string) => (typeof req.body?.[name] === 'string' ? req.body[name] : '')
    try {
      const email = field('email').slice(0, 320)
      const who = email
        ? await people.signIn(email, field('password').slice(0, 200))
        : sameSecret(field('token'), deps.token)
          ? TOKEN_PERSON
          : null
      if (!who) {
        throttle.failed(address, at)
        deps.logger.warn({ address }, 'console sign-in refused')
        return loginForm(res, lang, 401, email ? 'badPassword' : 'badToken', email)
      }
      throttle.succeeded(address)
      await signedIn(req, res, who)
    } catch (err) {
      next(err)
    }
  })

  // The one-time link `centralita user add` prints: the person chooses a password, and is in.
  const welcomeForm = (res: Response, lang: Lang, link: string, who: Person, problem?: Word) =>
    page(
      res,
      lang,
      { title: t(lang, 'welcomeTitle'), here: 'login', status: problem ? 400 : 200 },
      html`<section><p>${who.name} · ${who.email ?? ''} · ${t(lang, `role_${who.role}`)}</p>
<form method="post" action="/admin/welcome" id="welcome-form" novalidate><input type="hidden" name="link" value="${link}">
<input type="text" name="username" autocomplete="username" value="${who.email ?? ''}" hidden>
<label for="new-password">${t(lang, 'newPassword')}</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" maxlength="200" required ${problem ? raw('aria-invalid="true" aria-describedby="password-problem"') : ''}>
${problem ? html`<p class="field-error" id="password-problem">${t(lang, problem)}</p>` : ''}
<label for="repeat-password">${t(lang, 'repeatPassword')}</label>
<input id="repeat-password" name="repeat" type="password" autocomplete="new-password" maxlength="200" required>
<button type="submit">${t(lang, 'save')}</button></form></section>`,
    )
  router.get('/welcome', async (req, res, next) => {
    const lang = langOf(req, res)
    const link = typeof req.query.link === 'string' ? req.query.link.slice(0, 100) : ''
    try {
      const who = link ? await people.byLink(link, deps.clock.now().getTime()) : null
      if (!who) return loginForm(res, lang, 401, 'linkExpired')
      welcomeForm(res, lang, link, who)
    } catch (err) {
      next(err)
    }
  })
  router.post('/welcome', async (req, res, next) => {
    const lang = langOf(req, res)
    const address = req.ip ?? 'unknown'
    const at = deps.clock.now().getTime()
    if (throttle.wait(address, at) > 0) return loginForm(res, lang, 429, 'tooManyAttempts')
    const link = typeof req.body?.link === 'string' ? req.body.link.slice(0, 100) : ''
    const password = typeof req.body?.password === 'string' ? req.body.password : ''
    try {
      const who = link ? await people.byLink(link, at) : null
      if (!who) {
        throttle.failed(address, at)
        return loginForm(res, lang, 401, 'linkExpired')
      }
      const problem = passwordProblem(password)
      if (problem)
        return welcomeForm(
          res,
          lang,
          link,
          who,
          problem === 'short' ? 'passwordShort' : 'passwordLong',
        )
      if (password !== req.body.repeat) return welcomeForm(res, lang, link, who, 'passwordsDiffer')
      const chosen = await people.choosePassword(link, password, at)
      if (!chosen) return loginForm(res, lang, 401, 'linkExpired')
      await signedIn(req, res, chosen)
    } catch (err) {
      next(err)
    }
  })

  router.post('/logout', async (req, res, next) => {
    const token = cookies(req).get(COOKIE)
    try {
      if (token) await sessions.end(token)
    } catch (err) {
      return next(err)
    }
    res.append(
      'Set-Cookie',
      `${COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${req.secure ? '; Secure' : ''}`,
    )
    res.redirect(303, '/admin/login')
  })

  // Everything else needs a session (or the bearer token, for scripts).
  router.use(async (req, res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
    const cookie = cookies(req).get(COOKIE)
    if (bearer && sameSecret(bearer, deps.token)) {
      res.locals.person = TOKEN_PERSON
      return next()
    }
    let who: Person | null = null
    try {
      who = cookie ? await sessions.person(cookie, deps.clock.now().getTime()) : null
    } catch (err) {
      return next(err)
    }
    if (who) {
      res.locals.person = who
      return next()
    }
    res.set('WWW-Authenticate', 'Bearer')
    loginForm(res, langOf(req, res), 401, 'needLogin')
  })

  router.get('/events', (req, res) => deps.live.handle(req, res))

  const now = () => deps.clock.now().getTime()
  const calendar = () => deps.rules.current().calendarFor(null)
  const when = (ms: number | null, lang: Lang) =>
    ms === null
      ? '—'
      : DateTime.fromMillis(ms, { zone: calendar().timezone })
          .setLocale(lang)
          .toFormat('d LLL HH:mm')
  const flashOf = (req: Request, lang: Lang): string | null => {
    const words: Record<string, Word> = {
      escalated: 'escalatedOk',
      saved: 'saved',
      replayed: 'replayed',
      replied: 'replyQueued',
      noted: 'noteSaved',
      accepted: 'accepted',
    }
    const done = req.query.done
    return typeof done === 'string' && Object.hasOwn(words, done) ? t(lang, words[done]!) : null
  }
  const pill = (u: Urgency | null, lang: Lang) =>
    u ? html`<span class="pill u-${u}">${label(lang, u)}</span>` : ''
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
        if (!(err instanceof Refused)) {
          deps.logger.error({ err }, 'console page failed')
          throw err
        }
        page(
          res,
          lang,
          { title: String(err.status), status: err.status },
          html`<p class="flash error" role="alert">${refusalText(lang, err.message)}</p>
<p><a href="/admin">${t(lang, 'overview')}</a></p>`,
        )
      }
    }

  const personOf = (res: Response): Person => (res.locals.person as Person) ?? TOKEN_PERSON
  const actorOf = (res: Response) => actorName(personOf(res))
  const kit: PageKit = {
    page,
    handle,
    when,
    actorOf,
    personOf,
    people: async () => (await people.list()).map((p) => actorName(p)),
    timezone: () => calendar().timezone,
    now,
    db,
    service,
    queues: () => Object.keys(deps.rules.current().queues),
    pill,
    timer,
    flashOf,
    rules: deps.rules,
    classifier: deps.classifier,
    sources: deps.sources,
  }
  for (const pages of [
    overviewPage,
    caseListPage,
    ticketPages,
    escalationPages,
    rulesPages,
    learningRoutes,
    deadLetterPages,
    whatsappPage,
    reportPages,
  ])
    pages(router, kit)
  return router
}
