import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { monthlyReport, reportCsv } from '../../src/admin/monthly-report.js'
import { manualClock } from '../../src/kit/clock.js'
import { tickets } from '../../src/store/schema.js'
import { settled, testHub } from '../helpers/hub.js'
import { run } from '../helpers/process.js'
import {
  deliver,
  payloads,
  SECRETS,
  startUpstreams,
  supportHub,
  type Upstreams,
} from '../helpers/support-hub.js'
import { waitFor } from '../helpers/wait.js'

const METRICS = 'prometheus-scrape-token-0123'

// What the person who runs the hub reads from it: Prometheus metrics and the monthly report
// (page and CSV are covered by the console test; here the figures and the CLI).

describe('metrics and the monthly report', () => {
  let up: Upstreams
  let t: ReturnType<typeof supportHub>
  let base: string
  const clock = manualClock('2026-11-18T15:00:00Z')

  beforeAll(async () => {
    up = await startUpstreams()
    t = supportHub(up, { clock, env: { METRICS_TOKEN: METRICS } })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
    const send = deliver(base, clock)
    const contact = { id: 81, name: 'Rosa' }
    await send.chatwoot(
      payloads.chatwoot(8001, 801, 'Me cobraron dos veces la misma compra', contact),
      'm-1',
    )
    await send.chatwoot(
      payloads.chatwoot(8002, 802, 'El pedido llegó roto, pésimo servicio', contact),
      'm-2',
    )
    await send.chatwoot(
      payloads.chatwoot(8002, 802, 'El pedido llegó roto, pésimo servicio', contact),
      'm-2',
    )
    await send.whatsapp(
      payloads.whatsapp(
        'wamid.M0001',
        '56911110000',
        'Rosa',
        '¿Cuál es el horario de atención?',
        clock.now(),
      ),
    )
    await fetch(`${base}/webhooks/chatwoot`, { method: 'POST', body: '{}' })
    await waitFor(() => t.hub.db.select().from(tickets).all().length >= 2, { what: 'tickets' })
    await settled(t.hub)
  })
  afterAll(async () => {
    await t?.close()
    await up?.close()
  })

  it('exposes Prometheus metrics, behind METRICS_TOKEN when it is set', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401)
    expect(
      (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SECRETS.admin}` } }))
        .status,
    ).toBe(401)
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toContain('centralita_webhooks_total{channel="chatwoot",outcome="accepted"} 2')
    expect(text).toContain('centralita_webhooks_total{channel="chatwoot",outcome="duplicate"} 1')
    expect(text).toContain(
      'centralita_webhooks_total{channel="chatwoot",outcome="verification_failed"} 1',
    )
    expect(text).toContain('centralita_webhooks_total{channel="whatsapp",outcome="accepted"} 1')
    expect(text).toContain('centralita_decisions_total{intent="payment"} 1')
    expect(text).toContain('centralita_decisions_total{intent="complaint"} 1')
    expect(text).toMatch(/centralita_triage_duration_seconds_count 3\b/)
    expect(text).toMatch(
      /centralita_outbox_attempts_total\{kind="chatwoot\.[a-z_]+",outcome="done"\} [1-9]/,
    )
    expect(text).toContain('centralita_outbox_depth{status="pending"} 0')
    expect(text).toContain('centralita_dead_letters 0')
    expect(text).toContain('# TYPE centralita_sla_breaches_total counter')
    expect(text).toMatch(/process_resident_memory_bytes \d+/)
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds')
  })

  it('counts SLA breaches when a deadline passes', async () => {
    clock.advance(7 * 24 * 3_600_000)
    t.hub.sla.wake()
    await waitFor(
      async () => {
        const text = await (
          await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })
        ).text()
        return /centralita_sla_breaches_total\{kind="first_response_breach"\} [1-9]/.test(text)
      },
      { what: 'a first-response breach counted' },
    )
  })

  it('reports the month: requests by type and channel, SLA, escalations, recurring problems', async () => {
    const report = await monthlyReport(t.hub.sql, '2026-11', 'America/Santiago')
    expect(report.requests.total).toBe(3)
    expect(report.requests.byChannel).toEqual([
      { key: 'chatwoot', n: 2 },
      { key: 'whatsapp', n: 1 },
    ])
    expect(report.requests.byIntent.map((c) => c.key).sort()).toEqual([
      'complaint',
      'faq',
      'payment',
    ])
    expect(report.firstResponse.tickets).toBe(2)
    expect(report.firstResponse.done).toBe(0)
    expect(report.escalations.total).toBeGreaterThanOrEqual(2)
    expect(report.recurring.repeatComplainers).toBe(0)
    // Another month has nothing in it.
    expect((await monthlyReport(t.hub.sql, '2026-10', 'America/Santiago')).requests.total).toBe(0)
    await expect(monthlyReport(t.hub.sql, '2026-13', 'America/Santiago')).rejects.toThrow(/2026-11/)
    const csv = reportCsv(report)
    expect(csv).toContain('requests,total,3\n')
    expect(csv).toContain('requests_by_channel,whatsapp,1\n')
  })

  it('serves /metrics without a token when METRICS_TOKEN is not set, even with no admin token', async () => {
    const open = testHub({ CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot })
    try {
      const port = (await open.hub.listen()).port
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('# TYPE centralita_webhooks_total counter')
      // The admin surface itself is off.
      expect((await fetch(`http://127.0.0.1:${port}/admin`)).status).toBe(404)
      expect((await fetch(`http://127.0.0.1:${port}/api/tickets`)).status).toBe(404)
    } finally {
      await open.close()
    }
  })

  it('prints the report from the command line, as text or CSV', () => {
    const env = { DATABASE_URL: `file:${t.dir}/centralita.db` }
    const text = run(['report', '--month', '2026-11'], '', env)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('Customer service report 2026-11 (America/Santiago)')
    expect(text.stdout).toContain('requests: 3')
    const csv = run(['report', '--month', '2026-11', '--csv'], '', env)
    expect(csv.stdout.split('\n')[0]).toBe('section,key,value')
    expect(csv.stdout).toContain('requests_by_channel,chatwoot,2')
    const bad = run(['report', '--month', 'noviembre'], '', env)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--month')
  })
})
