import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { peopleStore } from '../../src/admin/people.js'
import { manualClock } from '../../src/kit/clock.js'
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

// Working cases from the console, in Debian's Chromium, as two people: an agent who signs in
// with the link `centralita user add` gave her, finds a customer's case by email, reads why it
// is at L3, answers the customer and leaves a note, escalates another case (first with the
// reason missing); and a manager, signed in elsewhere, who sees that escalation appear without
// reloading and accepts it. Screenshots at 1280 and 390 px go to test-artifacts/.

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const CUSTOMER = 'marta@cliente.example'
const AGENT = { email: 'ana@tienda.example', name: 'Ana Agente', password: 'caballo-bateria-42' }
const MANAGER = {
  email: 'gema@tienda.example',
  name: 'Gema Gerente',
  password: 'grapa-correcta-77',
}

type Violation = { id: string; impact: string; nodes: { target: string[] }[] }

describeWithService('chromium', 'working cases from the console, as two people', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let base: string
  let browser: Browser
  let agentContext: BrowserContext
  let managerContext: BrowserContext
  let agent: Page
  let manager: Page
  const links: Record<string, string> = {}
  const clock = manualClock('2026-11-18T15:00:00Z')

  /** axe-core's WCAG 2 A/AA checks on the page as it is (contrast, labels, landmarks…). */
  const accessibility = async (page: Page): Promise<Violation[]> => {
    await page.evaluate(AXE)
    const result = (await page.evaluate(
      `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'], resultTypes: ['violations'] })`,
    )) as { violations: Violation[] }
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })),
    }))
  }
  /** Screenshots at desktop and phone width; on the phone, nothing scrolls sideways. */
  const shoot = async (page: Page, name: string) => {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.screenshot({ path: join(ARTIFACTS, `${name}-1280.png`), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(ARTIFACTS, `${name}-390.png`), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
  }

  beforeAll(async () => {
    up = await startUpstreams()
    t = supportHub(up, { clock })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
    const send = deliver(base, clock)
    // Marta writes by email threatening to sue (a case at L3, for Legal), and complains in
    // the chat about another order (a case at L1). Others write too.
    expect(
      (
        await send.email(
          payloads.email(
            'marta-1@cliente.example',
            `Marta Díaz <${CUSTOMER}>`,
            'Cobro duplicado',
            'Hola. Me cobraron dos veces la compra del televisor. Si no me devuelven el dinero esta semana los voy a demandar.',
          ),
        )
      ).status,
    ).toBe(200)
    expect(
      (
        await send.chatwoot(
          payloads.chatwoot(
            8001,
            801,
            'Estoy muy molesta, el pedido de la lavadora llegó incompleto y nadie me responde',
            { id: 81, name: 'Marta Díaz', email: CUSTOMER },
          ),
          'cases-1',
        )
      ).status,
    ).toBe(200)
    for (const [i, text, name] of [
      [2, 'El repartidor fue muy grosero conmigo, quiero poner un reclamo', 'Pedro Soto'],
      [3, 'Me cobraron de más en la boleta del mes pasado', 'Rosa Paz'],
    ] as const) {
      expect(
        (
          await send.chatwoot(
            payloads.chatwoot(8000 + i, 800 + i, text, { id: 80 + i, name }),
            `cases-${i}`,
          )
        ).status,
      ).toBe(200)
    }
    await settled(t.hub)
    await waitFor(
      async () =>
        (await t.hub.sql.all(`select id from tickets where level = 'L3'`)).length === 1 &&
        (await t.hub.sql.all(`select id from tickets`)).length >= 3,
      { what: 'the cases' },
    )
    // The accounts, as `centralita user add` makes them (the CLI itself is tested in cli.test.ts).
    const people = peopleStore(t.hub.sql)
    for (const [who, role] of [
      [AGENT, 'agente'],
      [MANAGER, 'gerencia'],
    ] as const) {
      const added = await people.add({ email: who.email, name: who.name, role }, Date.now())
      links[who.email] = added!.link
    }
    browser = await launchChromium()
    // axe-core is injected into the pages, which the console's CSP would refuse.
    agentContext = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      bypassCSP: true,
    })
    managerContext = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      bypassCSP: true,
    })
    agent = await agentContext.newPage()
    manager = await managerContext.newPage()
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    await t?.close()
    await up?.close()
  })

  it('signs the agent in with her one-time link, after refusing a short password', async () => {
    await agent.goto(`${base}/admin/welcome?link=${links[AGENT.email]}`)
    expect(await agent.locator('main').textContent()).toContain(AGENT.name)
    await agent.fill('#new-password', 'corta')
    await agent.fill('#repeat-password', 'corta')
    await agent.click('#welcome-form button[type=submit]')
    expect(await agent.locator('#password-problem').textContent()).toContain('10 caracteres')
    await agent.fill('#new-password', AGENT.password)
    await agent.fill('#repeat-password', AGENT.password)
    await agent.click('#welcome-form button[type=submit]')
    await agent.waitForURL(`${base}/admin`)
    expect(await agent.locator('#who').textContent()).toBe('Ana Agente · agente')
    // The link worked once.
    const again = await fetch(`${base}/admin/welcome?link=${links[AGENT.email]}`)
    expect(again.status).toBe(401)
    expect(await again.text()).toContain('Este enlace ya no sirve')
    // Signed out, she signs in with her email and password; a wrong one is refused.
    await agent.click('header form button')
    await agent.fill('#email', AGENT.email)
    await agent.fill('#password', 'no-es-la-clave')
    await agent.click('#login-form button[type=submit]')
    expect(await agent.locator('main').textContent()).toContain('Correo o contraseña incorrectos')
    expect(await agent.inputValue('#email')).toBe(AGENT.email)
    await agent.fill('#password', AGENT.password)
    await agent.click('#login-form button[type=submit]')
    await agent.waitForURL(`${base}/admin`)
    expect(await accessibility(agent)).toEqual([])
  })

  it('finds the case by the customer email, most urgent first', async () => {
    await agent.goto(`${base}/admin/tickets`)
    await agent.fill('#f-q', CUSTOMER)
    await agent.click('form.filters button[type=submit]')
    await agent.waitForURL(/q=marta/)
    const rows = agent.locator('#cases tbody tr')
    expect(await rows.count()).toBe(2)
    // Customer, channel, last message, queue and level on each row; the L3 case comes first.
    const first = (await rows.nth(0).textContent())!
    expect(first).toContain('Marta Díaz')
    expect(first).toContain(CUSTOMER)
    expect(first).toContain('email')
    expect(first).toContain('los voy a demandar')
    expect(first).toContain('L3')
    expect(first).toContain('crítica')
    expect(await rows.nth(1).textContent()).toContain('lavadora')
    expect(await agent.locator('#page-of').textContent()).toBe('Página 1 de 1 · 2 casos')
    // The search also finds words of a message, and a case by its number.
    const byWords = await fetch(`${base}/api/tickets?q=repartidor`, {
      headers: { authorization: `Bearer ${SECRETS.admin}` },
    })
    const found = (await byWords.json()) as {
      total: number
      tickets: { contact: { name: string } }[]
    }
    expect(found.total).toBe(1)
    expect(found.tickets[0]!.contact.name).toBe('Pedro Soto')
    expect(await accessibility(agent)).toEqual([])
    await shoot(agent, 'cases-list')
  })

  it('reads why the case is at L3: the customer words, quoted, and the rule', async () => {
    await agent.click('#cases tbody tr >> nth=0 >> a')
    await agent.waitForURL(/\/admin\/tickets\/\d+$/)
    const why = (await agent.locator('#why').textContent())!
    expect(why).toMatch(/^Pasó a .+ \(L3\) porque el 18 nov \d\d:\d\d el cliente escribió «/)
    expect(why).toContain('«Si no me devuelven el dinero esta semana los voy a demandar.»')
    expect(why).toContain('amenaza legal')
    // One SLA truth: the case deadline is the nearest clock, and says which one it is.
    expect(await agent.locator('#case-head').textContent()).toMatch(/Plazo del caso: quedan .+\(/)
    // Codes are shown in Spanish.
    expect(await agent.locator('#ticket-status').textContent()).toBe('abierto')
  })

  it('answers the customer with a canned answer; the email goes out and counts as first response', async () => {
    const ticketId = Number(/tickets\/(\d+)/.exec(agent.url())![1])
    await agent.selectOption('#canned', 'need_details')
    const filled = await agent.inputValue('#reply-text')
    expect(filled).toContain('Hola Marta, para ayudarte necesitamos algunos datos más')
    await agent.fill('#reply-text', `${filled}\nLo revisamos hoy mismo.`)
    await agent.click('#reply-form button[type=submit]')
    await agent.waitForURL(/done=replied/)
    expect(await agent.locator('.flash').textContent()).toBe('Respuesta en cola de envío.')
    await settled(t.hub)
    const mail = await waitFor(() => up.sink.to(CUSTOMER).at(-1), { what: 'the reply email' })
    expect(mail.parsed.text).toContain('Lo revisamos hoy mismo.')
    const [ticket] = await t.hub.sql.all<{ by: string | null }>(
      'select first_response_by as "by" from tickets where id = ?',
      [ticketId],
    )
    expect(ticket!.by).toBe('Ana Agente <ana@tienda.example>')
    await agent.reload()
    const reply = agent.locator('#timeline li', { hasText: 'Lo revisamos hoy mismo.' })
    expect(await reply.count()).toBe(1)
    expect(await reply.textContent()).toContain('Ana Agente <ana@tienda.example>')
    expect(await reply.textContent()).toContain('envío: enviado')
  })

  it('adds a note; one too long comes back whole, with the problem marked', async () => {
    const long = 'x'.repeat(4500)
    await agent.fill('#note-text', long)
    await agent.click('#note-form button[type=submit]')
    expect(await agent.inputValue('#note-text')).toBe(long)
    expect(await agent.getAttribute('#note-text', 'aria-invalid')).toBe('true')
    expect(await agent.locator('#note-text-error').textContent()).toContain('4.500 caracteres')
    await agent.fill('#note-text', 'Llamé a la clienta: el cobro doble se ve en su cartola.')
    await agent.click('#note-form button[type=submit]')
    await agent.waitForURL(/done=noted/)
    const note = agent.locator('#timeline li.note')
    expect(await note.textContent()).toContain('Llamé a la clienta')
    expect(await note.textContent()).toContain('Nota interna · Ana Agente')
    // An agent does not take an L3 case: no button, and the server refuses it in Spanish.
    expect(await agent.locator('#escalations button').count()).toBe(0)
    expect(await agent.locator('#status option[value=resuelto]').isDisabled()).toBe(true)
    const [pending] = await t.hub.sql.all<{ id: number }>(
      `select e.id from escalations e join tickets k on k.id = e.ticket_id
        where k.level = 'L3' and e.status = 'pendiente'`,
    )
    const refused = await agent.evaluate(async (id) => {
      const res = await fetch(`/admin/escalations/${id}/accept`, { method: 'POST' })
      return { status: res.status, text: await res.text() }
    }, pending!.id)
    expect(refused.status).toBe(403)
    expect(refused.text).toContain('Su rol (agente) no puede hacer esto con un caso en L3')
    await shoot(agent, 'case-l3')
  })

  it('escalates the other case: a missing reason brings the form back as it was, and the manager sees it live and accepts it', async () => {
    // The manager signs in elsewhere and watches the escalations.
    await manager.goto(`${base}/admin/welcome?link=${links[MANAGER.email]}`)
    await manager.fill('#new-password', MANAGER.password)
    await manager.fill('#repeat-password', MANAGER.password)
    await manager.click('#welcome-form button[type=submit]')
    await manager.waitForURL(`${base}/admin`)
    await manager.goto(`${base}/admin/escalations`)
    await manager.waitForFunction('document.body.dataset.live === "on"')
    // A mark on the page: still there at the end means the page was never reloaded.
    await manager.evaluate('window.stayed = true')

    // The agent takes the chat case and escalates it.
    await agent.goto(`${base}/admin/tickets?q=lavadora`)
    await agent.click('#cases tbody tr >> nth=0 >> a')
    const caseUrl = agent.url()
    const number = (await agent.locator('h1').textContent())!
    await agent.fill('#assignee', 'Ana Agente <ana@tienda.example>')
    await agent.click('#assign-form button[type=submit]')
    await agent.goto(`${base}/admin/tickets?view=mine`)
    expect(await agent.locator('#cases').textContent()).toContain(number)
    await agent.goto(`${caseUrl}/escalate`)
    // On an L1 case the form offers L2 and L3 only.
    expect(await agent.locator('#level option').allTextContents()).toEqual([
      'L2 (recomendado)',
      'L3',
    ])
    await agent.selectOption('#reason', 'other')
    await agent.selectOption('#level', 'L3')
    const notes = 'La misma clienta amenaza con demandar por correo; ver su otro caso.'
    await agent.fill('#notes', notes)
    await agent.click('#escalate-form button[type=submit]')
    expect(await agent.locator('#other-error').textContent()).toContain('describa el motivo')
    expect(await agent.getAttribute('#other', 'aria-invalid')).toBe('true')
    expect(await agent.inputValue('#notes')).toBe(notes)
    expect(await agent.inputValue('#level')).toBe('L3')
    expect(await agent.inputValue('#reason')).toBe('other')
    expect(await accessibility(agent)).toEqual([])
    await shoot(agent, 'escalate-error')
    await agent.fill('#other', 'Amenaza legal en otro canal')
    await agent.click('#escalate-form button[type=submit]')
    await agent.waitForURL(/done=escalated/)

    // The manager's page shows it without a reload.
    const row = manager.locator('#escalation-list tr', { hasText: 'Amenaza legal en otro canal' })
    await row.waitFor({ timeout: 10_000 })
    expect(await manager.evaluate('window.stayed')).toBe(true)
    expect(await row.textContent()).toContain(number)
    expect(await row.textContent()).toContain('L1 → L3')
    await shoot(manager, 'escalations-live')
    await manager.click(`#escalation-list a:text-is("${number}")`)
    await manager.locator('#escalations button', { hasText: 'Aceptar' }).last().click()
    await manager.waitForURL(/done=accepted/)
    expect(await manager.locator('.flash').textContent()).toBe('Escalamiento aceptado.')
    expect(await accessibility(manager)).toEqual([])
    await shoot(manager, 'case-accepted')
    // The L3 case the agent could not take, the manager can.
    await manager.goto(`${base}/admin/tickets?q=${CUSTOMER}&level=L3`)
    await manager.click('#cases tbody tr >> nth=0 >> a')
    await manager.locator('#escalations button', { hasText: 'Aceptar' }).click()
    await manager.waitForURL(/done=accepted/)
    expect(await manager.locator('#escalations').textContent()).toContain(
      'centralita (reglas) → Gema Gerente <gema@tienda.example>',
    )

    // The audit names both people.
    const [escalation] = await t.hub.sql.all<{ by: string; to: string; status: string }>(
      `select escalated_by as "by", received_by as "to", status from escalations
        where reason = 'Amenaza legal en otro canal'`,
    )
    expect(escalation).toEqual({
      by: 'Ana Agente <ana@tienda.example>',
      to: 'Gema Gerente <gema@tienda.example>',
      status: 'en_proceso',
    })
    const actors = (
      await t.hub.sql.all<{ actor: string; action: string }>(
        'select actor, action from audit_log order by id',
      )
    ).map((a) => `${a.action} ${a.actor}`)
    expect(actors).toContain('escalation.created Ana Agente <ana@tienda.example>')
    expect(actors).toContain('escalation.accepted Gema Gerente <gema@tienda.example>')
    expect(actors).toContain('ticket.note Ana Agente <ana@tienda.example>')
    expect(actors).toContain('ticket.reply Ana Agente <ana@tienda.example>')
  })

  it('keeps the live stream and the pages behind a sign-in', async () => {
    expect((await fetch(`${base}/admin/events`)).status).toBe(401)
    expect((await fetch(`${base}/admin/welcome?link=not-a-link`)).status).toBe(401)
  })
})
