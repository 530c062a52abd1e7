import { spawnSync } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RULES_DIR, tempDir } from './helpers/hub.js'
import { BIN, ROOT } from './helpers/process.js'

function run(args: string[], input = '', env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

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
