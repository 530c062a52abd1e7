import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { peopleStore } from '../src/admin/people.js'
import { closeDatabase, openDatabase, sqlOf } from '../src/store/db.js'
import { RULES_DIR, tempDir } from './helpers/hub.js'
import { ROOT, run } from './helpers/process.js'

describe('centralita classify', () => {
  it('writes one JSON object per input line, in order', () => {
    const { code, stdout, stderr } = run(
      ['classify'],
      'Los voy a demandar\n\n¿A qué hora abren?\nme cobraron dos veces\n',
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.intent)).toEqual(['legal', 'faq', 'payment'])
    expect(Object.keys(lines[0])).toEqual([
      'intent',
      'confidence',
      'priority',
      'level',
      'signals',
      'amount',
      'language',
      'explanation',
    ])
    expect(lines[0]).toMatchObject({
      level: 'L3',
      signals: ['legal_threat'],
      priority: 'critica',
      language: 'es',
    })
  })

  it('reads JSON lines with channel and role, reporting bad lines in place', () => {
    const input = [
      JSON.stringify({
        text: 'The charge was made twice, I want a refund of $800',
        channel: 'internal',
        role: 'operator',
      }),
      'not json',
      JSON.stringify({ text: 'hola' }),
    ].join('\n')
    const { code, stdout } = run(['classify', '--jsonl'], input)
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatchObject({ intent: 'payment', amount: 800, language: 'en' })
    expect(lines[1].error).toMatch(/^invalid input line/)
    expect(lines[2].intent).toBeDefined()
    expect(code).toBe(1)
  })
})

describe('centralita dry-run', () => {
  it('prints the normalized message, the decision and the planned actions without side effects', () => {
    const file = join(ROOT, 'adapters/chatwoot/fixtures/message_created_legal.json')
    const { code, stdout } = run(['dry-run', '--channel', 'chatwoot', file], '', {
      CHATWOOT_BASE_URL: 'http://127.0.0.1:9',
      CHATWOOT_API_TOKEN: 'token',
    })
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result.result).toBe('accepted')
    expect(result.messages[0].externalId).toBe('1:9877')
    const [first] = result.decisions
    expect(first.decision).toMatchObject({ intent: 'legal', level: 'L3', queue: 'legal' })
    expect(first.actions).toMatchObject({
      ticket: 'reclamo',
      queue: 'legal',
      reply: null,
      level: 'L3',
    })
    expect(first.effects.map((e: { kind: string }) => e.kind).sort()).toEqual([
      'chatwoot.assign',
      'chatwoot.labels',
      'chatwoot.message',
      'chatwoot.priority',
    ])
  })

  it('answers a Tawk.to offline ticket by email, as at a given moment', () => {
    const file = join(ROOT, 'adapters/tawkto/fixtures/ticket_create_precio.json')
    const { code, stdout } = run(
      ['dry-run', '--channel', 'tawkto', '--at', '2026-11-18T15:00:00Z', file],
      '',
      {
        SMTP_URL: 'smtp://127.0.0.1:9',
        EMAIL_FROM: 'Soporte <soporte@tienda.example>',
      },
    )
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result.messages[0]).toMatchObject({
      channel: 'tawkto',
      externalId: 'ticket:9e4d7a10-c5b2-11f1-8a3c-5f2d9b7e4a01',
    })
    const [first] = result.decisions
    expect(first.decision).toMatchObject({ intent: 'faq', reply: { kind: 'faq', faqId: 'envios' } })
    expect(first.effects).toEqual([
      expect.objectContaining({
        kind: 'email.send',
        payload: expect.objectContaining({ to: 'camila.rojas@example.cl', automatic: true }),
      }),
    ])
  })

  it('reads an .eml for the email channel: only the new text, its thread, a threaded reply', () => {
    const file = join(ROOT, 'adapters/email/fixtures/respuesta_gmail.eml')
    // Sunday night in Santiago: closed.
    const { code, stdout } = run(
      ['dry-run', '--channel', 'email', '--at', '2026-11-23T02:00:00Z', file],
      '',
      {
        SMTP_URL: 'smtp://127.0.0.1:9',
        EMAIL_FROM: 'Soporte <soporte@tienda.example>',
      },
    )
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    const [message] = result.messages
    expect(message.text).toBe('Perfecto, ¿y a Punta Arenas cuánto demora?')
    expect(message.conversationExternalId).toBe('CAF3kq1x7Yp2@mail.example.cl')
    expect(message.threadRefs).toEqual([
      '0f3b2c1d.centralita@tienda.example',
      'CAF3kq1x7Yp2@mail.example.cl',
    ])
    const [email] = result.decisions[0].effects
    expect(email.payload).toMatchObject({
      title: 'Re: Consulta envio',
      inReplyTo: 'CAF3kq1x9Zr4@mail.example.cl',
    })
  })

  it('plans a WhatsApp Cloud reply, and none once the 24-hour window closed', () => {
    const file = join(ROOT, 'adapters/whatsapp/fixtures/text_horario_es.json')
    const env = { WHATSAPP_ACCESS_TOKEN: 'token', WHATSAPP_PHONE_NUMBER_ID: '110022003300440' }
    const within = JSON.parse(
      run(['dry-run', '--channel', 'whatsapp', '--at', '2025-11-20T15:05:00Z', file], '', env)
        .stdout,
    )
    expect(within.messages[0]).toMatchObject({
      channel: 'whatsapp',
      contact: { phone: '+56911112222' },
    })
    expect(within.decisions[0].effects).toEqual([
      expect.objectContaining({
        kind: 'whatsapp.cloud.send',
        payload: expect.objectContaining({ to: '56911112222' }),
      }),
    ])
    const late = JSON.parse(
      run(['dry-run', '--channel', 'whatsapp', '--at', '2025-11-22T15:05:00Z', file], '', env)
        .stdout,
    )
    expect(late.decisions[0].effects).toEqual([])
    expect(late.decisions[0].outcome.branch).toBe('person')
    expect(late.decisions[0].outcome.reason).toMatch(/24-hour WhatsApp window is closed/)
    expect(late.decisions[0].actions).toMatchObject({ queue: 'general', ticket: 'consulta' })
  })

  it('routes an internal-chat customer to their operator', () => {
    const file = join(ROOT, 'adapters/internal/fixtures/cliente_soporte.json')
    const { code, stdout } = run(
      ['dry-run', '--channel', 'internal', '--at', '2026-11-20T13:06:00Z', file],
      '',
      {
        INTERNAL_WEBHOOK_SECRET: 'internal-secret-0123456789',
        INTERNAL_CALLBACK_URL: 'http://127.0.0.1:9/events',
      },
    )
    expect(code).toBe(0)
    const [first] = JSON.parse(stdout).decisions
    expect(first.decision).toMatchObject({
      intent: 'support',
      queue: 'general',
      assignedOperator: 'op-12',
    })
    expect(first.effects.map((e: { payload: { type: string } }) => e.payload.type).sort()).toEqual([
      'handoff',
      'message',
    ])
  })

  it('names an unknown channel', () => {
    const { code, stderr } = run(['dry-run', '--channel', 'fax', 'x.json'])
    expect(code).toBe(2)
    expect(stderr).toContain('unknown channel "fax"')
  })
})

describe('centralita rules check', () => {
  it('accepts the shipped rulebook', () => {
    const { code, stdout } = run(['rules', 'check', RULES_DIR])
    expect(code).toBe(0)
    expect(stdout).toMatch(/is valid/)
  })

  it('names file, line and field of each problem', () => {
    const temp = tempDir()
    try {
      cpSync(RULES_DIR, temp.dir, { recursive: true })
      const path = join(temp.dir, 'queues.yaml')
      writeFileSync(
        path,
        readFileSync(path, 'utf8').replace('name: Ventas', 'name: 42\n    color: red'),
      )
      const { code, stderr } = run(['rules', 'check', temp.dir])
      expect(code).toBe(1)
      expect(stderr).toMatch(/^queues\.yaml:\d+ queues\.ventas\.name: /m)
      expect(stderr).toMatch(/^queues\.yaml:\d+ queues\.ventas: .*color/m)
    } finally {
      temp.cleanup()
    }
  })
})

describe('centralita train, model and corrections', () => {
  it('trains the corpus model alone where there is no hub database, and says so', () => {
    const temp = tempDir()
    try {
      const env = {
        DATABASE_URL: `file:${join(temp.dir, 'none.db')}`,
        MODEL_CACHE_DIR: join(ROOT, 'data/model'),
      }
      const trained = run(['train'], '', env)
      expect(trained.stderr).toBe('')
      expect(trained.code).toBe(0)
      expect(trained.stdout).toContain('no hub database at')
      // With a database and no corrections yet: nothing to learn, nothing to roll back.
      const db = { ...env, DATABASE_URL: `file:${join(temp.dir, 'hub.db')}` }
      expect(run(['model', 'list'], '', db).stdout.trim()).toBe(
        'no trainings yet: the corpus model is in use',
      )
      expect(run(['train'], '', db).stdout).toContain(
        'no new model: no corrections of an intent or signals to learn from yet',
      )
      const rollback = run(['model', 'rollback'], '', db)
      expect(rollback.code).toBe(1)
      expect(rollback.stdout).toContain('the corpus model is in use: nothing to roll back')
      expect(run(['corrections', 'export'], '', db)).toMatchObject({ code: 0, stdout: '' })
    } finally {
      temp.cleanup()
    }
  }, 30_000)
})

describe('centralita user', () => {
  it('adds a console account and prints its one-time sign-in link', async () => {
    const temp = tempDir()
    try {
      const env = {
        DATABASE_URL: `file:${join(temp.dir, 'hub.db')}`,
        PUBLIC_URL: 'https://soporte.tienda.example/',
      }
      const added = run(
        [
          'user',
          'add',
          '--email',
          'Ana@Tienda.example',
          '--name',
          'Ana Agente',
          '--role',
          'agente',
        ],
        '',
        env,
      )
      expect(added.stderr).toBe('')
      expect(added.code).toBe(0)
      expect(added.stdout).toContain('Ana Agente <ana@tienda.example> · agente')
      const link = /https:\/\/soporte\.tienda\.example\/admin\/welcome\?link=([\w-]+)/.exec(
        added.stdout,
      )?.[1]
      expect(link).toBeDefined()
      // The same email twice is refused; an unknown role names the choices.
      const twice = run(
        ['user', 'add', '--email', 'ana@tienda.example', '--name', 'Otra', '--role', 'agente'],
        '',
        env,
      )
      expect(twice.code).toBe(1)
      expect(twice.stderr).toContain('already has an account')
      const badRole = run(
        ['user', 'add', '--email', 'b@tienda.example', '--name', 'B', '--role', 'jefe'],
        '',
        env,
      )
      expect(badRole.code).not.toBe(0)
      expect(badRole.stderr).toContain('agente, supervisor, gerencia, admin')
      expect(run(['user', 'list'], '', env).stdout).toBe(
        'ana@tienda.example\tAna Agente\tagente\tlink not used yet\n',
      )
      // A new link replaces the old one.
      const relinked = run(['user', 'link', '--email', 'ana@tienda.example'], '', env)
      const fresh = /link=([\w-]+)/.exec(relinked.stdout)?.[1]
      const db = openDatabase(join(temp.dir, 'hub.db'))
      try {
        const people = peopleStore(sqlOf(db))
        expect(await people.byLink(link!, Date.now())).toBeNull()
        expect((await people.byLink(fresh!, Date.now()))?.name).toBe('Ana Agente')
      } finally {
        closeDatabase(db)
      }
    } finally {
      temp.cleanup()
    }
  }, 30_000)
})
