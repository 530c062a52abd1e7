import { ImapFlow } from 'imapflow'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { channelState, messages } from '../../src/store/schema.js'
import { startDovecot } from '../helpers/dovecot.js'
import { tempDir, testHub } from '../helpers/hub.js'
import { describeWithService } from '../helpers/services.js'
import { waitFor } from '../helpers/wait.js'

const message = (id: string, text: string, date: Date) =>
  [
    'From: Camila Rojas <camila.rojas@example.cl>',
    'To: soporte@tienda.example',
    `Subject: ${id}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${id}@example.cl>`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    text,
  ].join('\r\n')

describeWithService('dovecot', 'IMAP poller against a real IMAP server', () => {
  let dovecot: Awaited<ReturnType<typeof startDovecot>>
  let client: ImapFlow
  const dir = tempDir()

  beforeAll(async () => {
    dovecot = await startDovecot()
    client = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.port,
      secure: false,
      auth: { user: dovecot.user, pass: dovecot.password },
      logger: false,
    })
    await client.connect()
  })
  afterAll(async () => {
    await client.logout().catch(() => {})
    await dovecot.stop()
    dir.cleanup()
  })

  const append = (id: string, text: string, date = new Date()) =>
    client.append('INBOX', message(id, text, date), [], date)
  const hub = () =>
    testHub(
      { IMAP_URL: dovecot.url, IMAP_POLL_SECONDS: '1', IMAP_BACKFILL_HOURS: '24' },
      { dir: dir.dir },
    )
  const stored = (t: ReturnType<typeof hub>) =>
    t.hub.db
      .select()
      .from(messages)
      .all()
      .map((m) => m.externalId)

  it('reads new mail, skips mail older than the backfill, and resumes after a restart without repeats', async () => {
    const fiveDaysAgo = new Date(Date.now() - 5 * 86_400_000)
    await append('old-1', 'Un correo de hace cinco días.', fiveDaysAgo)
    await append('new-1', '¿Cuál es el horario de atención?')

    let t = hub()
    await t.hub.listen()
    await waitFor(() => stored(t).includes('new-1@example.cl'), {
      timeoutMs: 10_000,
      what: 'new-1 stored',
    })
    expect(stored(t)).toEqual(['new-1@example.cl'])
    const triaged = t.hub.db.select().from(messages).get()!
    expect(triaged).toMatchObject({
      channel: 'email',
      text: '¿Cuál es el horario de atención?',
      triage: true,
    })
    await t.hub.stop()

    // Mail that arrives while the hub is down is read after the restart; nothing is read twice.
    await append('new-2', 'Necesito una cotización para 40 unidades.')
    t = hub()
    await t.hub.listen()
    await waitFor(() => stored(t).includes('new-2@example.cl'), {
      timeoutMs: 10_000,
      what: 'new-2 stored',
    })
    await append('new-3', 'Gracias.')
    await waitFor(() => stored(t).includes('new-3@example.cl'), {
      timeoutMs: 10_000,
      what: 'new-3 stored',
    })
    expect(stored(t)).toEqual(['new-1@example.cl', 'new-2@example.cl', 'new-3@example.cl'])
    const position = JSON.parse(
      t.hub.db
        .select()
        .from(channelState)
        .all()
        .find((r) => r.key.startsWith('imap:'))!.value,
    )
    const box = await client.mailboxOpen('INBOX')
    expect(position).toEqual({
      uidValidity: String(box.uidValidity),
      lastUid: Number(box.uidNext) - 1,
    })
    expect(t.hub.sources.find((s) => s.name === 'imap')!.health()).toBe('ok')
    await t.hub.stop()
  })

  it('stores a message over MIME_BODY_LIMIT with its headers only, without downloading it', async () => {
    const temp = tempDir()
    const big = 'x'.repeat(200 * 1024)
    await append('big-1', `Adjunto el catálogo.\n\n${big}`)
    const t = testHub(
      {
        IMAP_URL: dovecot.url,
        IMAP_POLL_SECONDS: '1',
        IMAP_BACKFILL_HOURS: '24',
        MIME_BODY_LIMIT: '64kb',
      },
      { dir: temp.dir },
    )
    try {
      await t.hub.listen()
      const row = await waitFor(
        () =>
          t.hub.db
            .select()
            .from(messages)
            .all()
            .find((m) => m.externalId === 'big-1@example.cl'),
        { timeoutMs: 10_000, what: 'big-1 stored' },
      )
      expect(row.subject).toBe('big-1')
      expect(row.text).toBe('')
      expect(JSON.parse(row.meta).readNotes).toEqual([
        expect.stringMatching(/over MIME_BODY_LIMIT: only its headers were fetched/),
      ])
    } finally {
      await t.close()
      temp.cleanup()
    }
  })

  it('reports a failing server on /readyz without taking the hub out of service', async () => {
    const t = testHub({
      IMAP_URL: `imap://${dovecot.user}:wrong-password@127.0.0.1:${dovecot.port}/INBOX`,
      IMAP_POLL_SECONDS: '1',
    })
    const { port } = await t.hub.listen()
    const imap = t.hub.sources.find((s) => s.name === 'imap')!
    await waitFor(() => imap.health().startsWith('error'), {
      timeoutMs: 10_000,
      what: 'the failure reported',
    })
    // Reported on /readyz, without taking the hub out of service: webhooks still flow.
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(ready.status).toBe(200)
    expect(
      ((await ready.json()) as { checks: Record<string, string> }).checks['source.imap'],
    ).toMatch(/^error/)
    await t.close()
  })
})
