import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { peopleStore } from '../../src/admin/people.js'
import { consoleSessions, tickets } from '../../src/store/schema.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { listeningHubs, settled } from '../helpers/hub.js'
import { waitFor } from '../helpers/wait.js'

// Security review, low: console CSRF rested on SameSite alone; the session cookie was a
// constant MAC of the token that logout did not end, never Secure, and sign-in was not
// throttled; the console's CSP allowed inline scripts.

const hubs = listeningHubs({
  ADMIN_TOKEN: SECRETS.admin,
  CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
})

/** Signs in; the session cookie (name=value). */
async function signIn(base: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: base,
      ...headers,
    },
    body: `token=${SECRETS.admin}`,
  })
  expect(res.status).toBe(303)
  const setCookie = res.headers.get('set-cookie')!
  return { cookie: setCookie.split(';')[0]!, setCookie }
}

/** A hub with one open ticket (a complaint). */
async function withTicket() {
  const started = await hubs.start()
  await deliver(started.base).chatwoot(
    payloads.chatwoot(1, 700, 'El lavado quedó pésimo y nadie me responde', { id: 1, name: 'Ana' }),
    'csrf-1',
  )
  const ticket = await waitFor(() => started.t.hub.db.select().from(tickets).get(), {
    what: 'a ticket',
  })
  await settled(started.t.hub)
  return { ...started, ticket }
}

describe('console: cross-origin requests', () => {
  it('refuses a status change posted from another origin of the same site', async () => {
    const { base, t, ticket } = await withTicket()
    const { cookie } = await signIn(base)
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/admin/tickets/${ticket.id}/status`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
        body: 'status=resuelto',
      })
    const otherPort = base.replace(/:(\d+)$/, (_m, p) => `:${Number(p) + 1}`)
    expect((await post({ origin: otherPort })).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'same-site', origin: otherPort })).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect(t.hub.db.select().from(tickets).get()!.status).toBe('abierto')
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: base })).status).toBe(303)
    expect(t.hub.db.select().from(tickets).get()!.status).toBe('resuelto')
  })
})

describe('console: sessions', () => {
  it('gives each sign-in its own session, and signing out ends it', async () => {
    const { base, t } = await hubs.start()
    const first = await signIn(base)
    const second = await signIn(base)
    expect(first.cookie).not.toBe(second.cookie)
    expect(first.setCookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=43200$/)
    const overview = (cookie: string) =>
      fetch(`${base}/admin`, { headers: { cookie }, redirect: 'manual' })
    expect((await overview(first.cookie)).status).toBe(200)
    await fetch(`${base}/admin/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: first.cookie, origin: base },
    })
    expect((await overview(first.cookie)).status).toBe(401)
    expect((await overview(second.cookie)).status).toBe(200)
    // The database holds a hash, never the cookie's value.
    const stored = t.hub.db.select().from(consoleSessions).all()
    expect(stored).toHaveLength(1)
    expect(second.cookie).not.toContain(stored[0]!.id)
    // Sessions expire.
    t.hub.db
      .update(consoleSessions)
      .set({ expiresAt: 0 })
      .where(eq(consoleSessions.id, stored[0]!.id))
      .run()
    expect((await overview(second.cookie)).status).toBe(401)
  })

  it('marks the cookie Secure when the browser came over TLS through a trusted proxy', async () => {
    const { base } = await hubs.start({ TRUST_PROXY: 'true' })
    const { setCookie } = await signIn(base, {
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.9',
      origin: base.replace('http:', 'https:'),
    })
    expect(setCookie).toMatch(/; Secure$/)
  })

  it('throttles sign-in attempts per address', async () => {
    const { base } = await hubs.start()
    const attempt = (token: string) =>
      fetch(`${base}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: `token=${token}`,
      })
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await attempt(`wrong-token-${i}-0123456789`)).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429])
    // The right token waits too, until the window passes.
    const right = await attempt(SECRETS.admin)
    expect(right.status).toBe(429)
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('console: personal accounts', () => {
  const form = (base: string, path: string, body: Record<string, string>, cookie = '') =>
    fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: base,
        ...(cookie ? { cookie } : {}),
      },
      body: new URLSearchParams(body).toString(),
    })

  it('keeps passwords and links as hashes, uses a link once, and throttles guessed passwords', async () => {
    const { base, t } = await hubs.start()
    const added = await peopleStore(t.hub.sql).add(
      { email: 'lia@tienda.example', name: 'Lía', role: 'supervisor' },
      Date.now(),
    )
    const password = 'una-clave-muy-larga-9'
    const chosen = await form(base, '/admin/welcome', {
      link: added!.link,
      password,
      repeat: password,
    })
    expect(chosen.status).toBe(303)
    const cookie = chosen.headers.get('set-cookie')!.split(';')[0]!
    const page = await (await fetch(`${base}/admin`, { headers: { cookie } })).text()
    expect(page).toContain('Lía · supervisor')
    const [row] = await t.hub.sql.all<Record<string, string | null>>(
      'select password_hash as "hash", link_hash as "link" from console_users',
    )
    expect(row!.hash).toMatch(/^scrypt\$/)
    expect(row!.hash).not.toContain(password)
    expect(row!.link).toBeNull()
    // The link does not work twice.
    const reused = await form(base, '/admin/welcome', {
      link: added!.link,
      password,
      repeat: password,
    })
    expect(reused.status).toBe(401)
    expect(
      (await form(base, '/admin/login', { email: 'LIA@tienda.example', password })).status,
    ).toBe(303)
    // Wrong passwords (and unknown emails) count against the address like wrong tokens.
    const statuses: number[] = []
    for (const email of ['lia@tienda.example', 'nadie@tienda.example', 'lia@tienda.example'])
      for (let i = 0; i < 2; i++)
        statuses.push((await form(base, '/admin/login', { email, password: `no-es-${i}` })).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
    expect(
      (await form(base, '/admin/login', { email: 'lia@tienda.example', password })).status,
    ).toBe(429)
  })

  it('streams live changes only to a signed-in page, and ends the stream when the hub stops', async () => {
    const { base, t } = await hubs.start()
    expect((await fetch(`${base}/admin/events`)).status).toBe(401)
    const { cookie } = await signIn(base)
    const controller = new AbortController()
    const res = await fetch(`${base}/admin/events`, {
      headers: { cookie },
      signal: controller.signal,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let seen = ''
    const until = async (text: string) => {
      const deadline = Date.now() + 10_000
      while (!seen.includes(text) && Date.now() < deadline) {
        const { value, done } = await reader.read()
        if (done) break
        seen += decoder.decode(value)
      }
      return seen.includes(text)
    }
    expect(await until('retry: 3000')).toBe(true)
    // A new case anywhere: the page is told.
    await deliver(base).chatwoot(
      payloads.chatwoot(5, 705, 'Nadie me responde y el pedido llegó roto', { id: 5, name: 'Eva' }),
      'live-1',
    )
    expect(await until('event: change')).toBe(true)
    // Stopping the hub ends the stream instead of waiting out the shutdown grace.
    const stopping = Date.now()
    await t.hub.stop()
    expect(Date.now() - stopping).toBeLessThan(2000)
    controller.abort()
  })
})

describe('console: content security', () => {
  it('serves pages with no inline script, a CSP that allows none, and nosniff', async () => {
    const { base } = await hubs.start()
    const { cookie } = await signIn(base)
    for (const path of ['/admin', '/admin/tickets', '/admin/rules', '/admin/login']) {
      const res = await fetch(`${base}${path}`, { headers: { cookie } })
      const csp = res.headers.get('content-security-policy')!
      expect(csp).toContain("script-src 'self'")
      expect(csp).not.toContain('unsafe-inline')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      const page = await res.text()
      expect(page).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style>/)
    }
    const script = await fetch(`${base}/admin/assets/console.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await script.text()).toContain('.timer[data-due]')
  })
})
