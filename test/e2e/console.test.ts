import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Source } from '../../src/contracts/channel.js'
import { manualClock } from '../../src/kit/clock.js'
import { outbox, tickets } from '../../src/store/schema.js'
import { ARTIFACTS, launchChromium } from '../helpers/browser.js'
import { settled } from '../helpers/hub.js'
import { describeWithService } from '../helpers/services.js'
import {
  deliver,
  payloads,
  SECRETS,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

// The real console in Debian's Chromium (playwright-core), against a running hub with seeded
// data: sign in with the token, open a ticket, escalate it through the form, try a message on
// the rules page, replay a dead letter. Screenshots go to test-artifacts/.

describeWithService('chromium', 'admin console in a browser', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let base: string
  let browser: Browser
  let page: Page
  const clock = manualClock('2026-11-18T15:00:00Z')

  beforeAll(async () => {
    up = await startUpstreams()
    t = supportHub(up, { clock })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
    const send = deliver(base, clock)
    // A complaint (a ticket for calidad) and an FAQ whose answer Chatwoot refuses for good.
    up.chatwoot.fail({ status: 422, match: /^POST .*\/conversations\/702\/messages$/, times: 1 })
    expect(
      (
        await send.chatwoot(
          payloads.chatwoot(
            7001,
            701,
            'El televisor llegó roto y nadie me responde, quiero hablar con un supervisor',
            {
              id: 71,
              name: 'Marta Díaz',
              email: 'marta@cliente.example',
            },
          ),
          'console-1',
        )
      ).status,
    ).toBe(200)
    expect(
      (
        await send.chatwoot(
          payloads.chatwoot(7002, 702, '¿Cuál es el horario de atención?', {
            id: 72,
            name: 'Luis',
          }),
          'console-2',
        )
      ).status,
    ).toBe(200)
    // The same customer, later, by email: her ticket shows both channels.
    expect(
      (
        await send.email(
          payloads.email(
            'marta-2@cliente.example',
            'Marta Díaz <marta@cliente.example>',
            'Televisor',
            'Les escribo también por correo: sigo esperando por el televisor.',
          ),
        )
      ).status,
    ).toBe(200)
    await waitFor(() => t.hub.db.select().from(tickets).all().length >= 1, { what: 'a ticket' })
    await settled(t.hub)
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await t?.close()
    await up?.close()
  })

  it('refuses /admin and /api without the token', async () => {
    for (const path of ['/admin', '/admin/tickets', '/api/tickets']) {
      expect((await fetch(`${base}${path}`)).status).toBe(401)
    }
    // A cookie that is not valid percent-encoding is no session, not a server error.
    const mangled = await fetch(`${base}/admin`, {
      headers: { cookie: 'centralita_lang=%E0%A4%A; centralita_session=%ZZ' },
    })
    expect(mangled.status).toBe(401)
    const wrong = await fetch(`${base}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=not-the-token-at-all',
      redirect: 'manual',
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
  })

  it('signs in with the token and shows the overview', async () => {
    const first = await page.goto(`${base}/admin`)
    expect(first?.status()).toBe(401)
    await page.fill('#token', SECRETS.admin)
    await page.click('#token-form button[type=submit]')
    await page.waitForURL(`${base}/admin`)
    await expect(page.locator('h1').textContent()).resolves.toBe('Resumen')
    // Today's traffic, the queues, the dead letter and channel health are all there.
    const body = await page.locator('main').textContent()
    expect(body).toContain('chatwoot')
    expect(body).toContain('Casos abiertos por cola')
    expect(await page.locator('#dead-count').textContent()).toBe('1')
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview.png'), fullPage: true })
    // On a phone: no sideways scrolling.
    await page.setViewportSize({ width: 390, height: 844 })
    const width = await page.evaluate('document.documentElement.scrollWidth')
    expect(width).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview-phone.png'), fullPage: true })
    await page.setViewportSize({ width: 1100, height: 900 })
  })

  it('opens a ticket and escalates it through the form, which notifies the next level', async () => {
    await page.goto(`${base}/admin/tickets`)
    const first = t.hub.db.select().from(tickets).all()[0]!
    const number = first.number
    expect(number).toMatch(/^TK-2026-\d{6}$/)
    await page.click(`table a:text-is("${number}")`)
    await expect(page.locator('h1').textContent()).resolves.toBe(number)
    const main = await page.locator('main').textContent()
    expect(main).toContain('El televisor llegó roto')
    expect(main).toContain('sigo esperando por el televisor')
    expect(main).toMatch(/quedan|SLA VENCIDO hace/)
    await page.screenshot({ path: join(ARTIFACTS, 'console-ticket.png'), fullPage: true })

    const notifiedBefore = await page.locator('#timeline li.alert').count()
    const pushedBefore = up.push.published.length
    await page.click('text=Escalar →')
    expect(await page.locator('main').textContent()).toContain('Marta Díaz')
    // Picking "customer asks for a supervisor" pre-selects L2 (over the recommended default).
    await page.selectOption('#reason', 'supervisor')
    expect(await page.inputValue('#level')).toBe('L2')
    await page.fill('#notes', 'Pide hablar con un supervisor; ya esperó dos días.')
    await page.click('#escalate-form button[type=submit]')
    await page.waitForURL(/done=escalated/)
    expect(await page.locator('.flash').textContent()).toBe('Caso escalado.')
    const escalations = await page.locator('#escalations').textContent()
    expect(escalations).toContain('L2')
    expect(escalations).toContain('El cliente pide un supervisor')
    // The escalation's alerts are in the case's history, and they went out.
    expect(await page.locator('#timeline li.alert').count()).toBeGreaterThan(notifiedBefore)
    await settled(t.hub)
    expect(up.push.published.length).toBeGreaterThan(pushedBefore)
    await page.goto(`${base}/admin/escalations`)
    expect(await page.locator('main').textContent()).toContain(number)
  })

  it('tries a message on the rules page without side effects', async () => {
    const before = t.hub.db.select().from(outbox).all().length
    await page.goto(`${base}/admin/rules`)
    const rulebook = await page.locator('main').textContent()
    expect(rulebook).toContain('Reglamento válido')
    // The rulebook itself: routing rules in order, priorities with their SLA, queues.
    expect(rulebook).toContain('Reglas de enrutamiento')
    expect(rulebook).toMatch(/crítica\s*15 min\s*4 h 00 min/)
    expect(rulebook).toContain('calidad')
    await page.fill('#try-text', 'Los voy a demandar si no me devuelven el dinero')
    await page.click('text=Probar un mensaje >> nth=-1')
    expect(await page.locator('#try-intent').textContent()).toBe('legal')
    expect(await page.locator('#try-result').textContent()).toContain('legal_threat')
    // Which words fired which rule, before the full decision.
    expect(await page.locator('#try-result #rules-fired').textContent()).toContain(
      'legal_threat: “demandar”',
    )
    expect(t.hub.db.select().from(outbox).all().length).toBe(before)
  })

  it('replays a dead letter', async () => {
    await page.goto(`${base}/admin/dead-letters`)
    const rows = page.locator('#dead-letters tr')
    expect(await rows.count()).toBe(2)
    expect(await page.locator('#dead-letters').textContent()).toContain('422')
    // Inspect it: the payload and the last error.
    await page.click('#dead-letters td a')
    expect(await page.locator('main pre').textContent()).toContain('"conversationId": 702')
    await page.goBack()
    await page.click('#dead-letters button')
    await page.waitForURL(/done=replayed/)
    await settled(t.hub)
    expect(
      t.hub.db
        .select()
        .from(outbox)
        .all()
        .filter((e) => e.status === 'dead'),
    ).toEqual([])
  })

  it('shows the WhatsApp Web pairing QR code while the session waits for a scan', async () => {
    await page.goto(`${base}/admin/whatsapp?lang=es`)
    expect(await page.locator('main').textContent()).toContain('WhatsApp Web no está activo')
    // A session waiting for its scan (the shape whatsapp-web.js's session reports).
    const waiting: Source = {
      name: 'whatsapp-web',
      start: async () => {},
      stop: async () => {},
      health: () => 'qr',
      snapshot: () => ({ state: 'qr', qr: '2@Zm9vYmFy,abc123,def456,ghi789', lastError: null }),
    }
    ;(t.hub.sources as Source[]).push(waiting)
    await page.goto(`${base}/admin/whatsapp`)
    expect(await page.locator('main').textContent()).toContain('Escanee este código')
    expect(await page.locator('#qr svg').count()).toBe(1)
    ;(t.hub.sources as Source[]).pop()
  })

  it('switches to English and serves the monthly report with its CSV', async () => {
    const res = await page.goto(`${base}/admin/reports?month=2026-11&lang=en`)
    expect(res?.status(), await res?.text()).toBe(200)
    await expect(page.locator('h1').textContent()).resolves.toBe('Monthly report 2026-11')
    expect(await page.locator('svg.chart').count()).toBeGreaterThan(3)
    const csv = await page.evaluate(async () =>
      (await fetch('/admin/reports.csv?month=2026-11')).text(),
    )
    expect(csv.split('\n')[0]).toBe('section,key,value')
    expect(csv).toContain('requests_by_channel,chatwoot,2')
    expect(csv).toContain('escalations_by_level,L2,1')
  })

  it('lists each rule match once and sets a negated threat apart', async () => {
    const text = 'No quiero demandar a nadie, pero me cobraron dos veces, me cobraron dos veces'
    const res = await deliver(base, clock).chatwoot(
      payloads.chatwoot(7003, 703, text, { id: 73, name: 'Rosa' }),
      'console-3',
    )
    expect(res.status).toBe(200)
    const ticket = await waitFor(
      () =>
        t.hub.db
          .select()
          .from(tickets)
          .all()
          .find((k) => k.queue === 'finanzas'),
      { what: 'the payment ticket' },
    )
    await page.goto(`${base}/admin/tickets/${ticket.id}?lang=es`)
    const fired = (await page.locator('#rules-fired').textContent())!
    const items = fired.replace(/^Reglas que coincidieron: /, '').split(' · ')
    expect(items).toContain('payment: “cobraron”')
    expect(items.length).toBe(new Set(items).size)
    expect(fired).not.toContain('legal_threat')
    expect(await page.locator('#rules-set-aside').textContent()).toMatch(
      /^Descartadas: legal_threat: “demandar” \(negated by "no"\)$/,
    )
  })

  it('corrects a decision from its ticket; the learning page shows the example and the rules behind it', async () => {
    const ticket = t.hub.db.select().from(tickets).all()[0]!
    await page.goto(`${base}/admin/tickets/${ticket.id}?lang=es`)
    await page.click('#correct-link')
    await page.waitForURL(/\/admin\/decisions\/\d+\/correct$/)
    expect(await page.locator('#correct-text').textContent()).toContain('El televisor llegó roto')
    const decided = await page.inputValue('#intent')
    const other = decided === 'payment' ? 'support' : 'payment'
    await page.selectOption('#intent', other)
    await page.click('#correct-form button[type=submit]')
    await page.waitForURL(/done=corrected/)
    expect(await page.locator('.flash').textContent()).toBe('Corrección guardada.')
    expect(await page.inputValue('#intent')).toBe(other)
    await page.screenshot({ path: join(ARTIFACTS, 'console-correct.png'), fullPage: true })

    await page.goto(`${base}/admin/learning`)
    const examples = (await page.locator('#corrections').textContent())!
    expect(examples).toContain('El televisor llegó roto')
    expect(examples).toContain(`intent: ${other}`)
    expect(examples).toContain('admin (token)')
    expect(await page.locator('#corrected-rules').textContent()).toMatch(
      new RegExp(`intent:${decided} “[^”]+” coincidió en \\d+ mensajes y se corrigió 1 veces`),
    )
    expect(await page.locator('#model-in-use').textContent()).toContain('modelo del corpus')
    await page.screenshot({ path: join(ARTIFACTS, 'console-learning.png'), fullPage: true })
  })
})
