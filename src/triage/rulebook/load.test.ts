import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RULES_DIR, tempDir } from '../../../test/helpers/hub.js'
import { formatIssues, loadRulebookSource } from './load.js'

describe('loadRulebookSource', () => {
  let temp: ReturnType<typeof tempDir>
  beforeEach(() => {
    temp = tempDir()
    cpSync(RULES_DIR, temp.dir, { recursive: true })
  })
  afterEach(() => temp.cleanup())

  const edit = (file: string, change: (text: string) => string) => {
    const path = join(temp.dir, file)
    writeFileSync(path, change(readFileSync(path, 'utf8')))
  }

  it('accepts the shipped rulebook', () => {
    const result = loadRulebookSource(RULES_DIR)
    expect(result.ok).toBe(true)
  })

  it('names the file, line and field of a bad value', () => {
    edit('settings.yaml', (text) => text.replace(/min_confidence: [0-9.]+/, 'min_confidence: 1.5'))
    const result = loadRulebookSource(temp.dir)
    expect(result.ok).toBe(false)
    if (result.ok) return
    const line =
      readFileSync(join(temp.dir, 'settings.yaml'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('1.5')) + 1
    expect(result.issues).toEqual([
      {
        file: 'settings.yaml',
        line,
        field: 'classifier.min_confidence',
        message: expect.stringContaining('1'),
      },
    ])
    expect(formatIssues(result.issues)).toMatch(
      new RegExp(`^settings.yaml:${line} classifier.min_confidence: `),
    )
  })

  it('reports a routing rule that points at an unknown queue', () => {
    edit('routing.yaml', (text) =>
      text.replace(
        'queue: legal, priority: critica, level: L3',
        'queue: abogados, priority: critica, level: L3',
      ),
    )
    const result = loadRulebookSource(temp.dir)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues[0]).toMatchObject({
      file: 'routing.yaml',
      field: 'rules[0].then.queue',
      message: 'unknown queue "abogados"',
    })
    expect(result.issues[0]!.line).toBeGreaterThan(1)
  })

  it('reports an invalid regular expression and YAML syntax errors with their line', () => {
    edit('intents.yaml', (text) =>
      text.replace('- (voy|vamos|va) a (publicar', '- (voy|vamos|va a (publicar'),
    )
    const bad = loadRulebookSource(temp.dir)
    expect(bad.ok).toBe(false)
    if (!bad.ok)
      expect(bad.issues[0]).toMatchObject({
        file: 'intents.yaml',
        field: expect.stringMatching(/^signals\.media_threat\.es\.patterns\[0\]$/),
      })

    edit('queues.yaml', (text) => `${text}\n  broken: [unclosed\n`)
    const syntax = loadRulebookSource(temp.dir)
    expect(syntax.ok).toBe(false)
    if (!syntax.ok)
      expect(syntax.issues.some((i) => i.file === 'queues.yaml' && i.line > 0)).toBe(true)
  })

  it('reports unknown fields instead of silently ignoring them', () => {
    edit('priorities.yaml', (text) => text.replace('first_response: 15m', 'first_respons: 15m'))
    const result = loadRulebookSource(temp.dir)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.issues.map((i) => i.field)).toEqual(
        expect.arrayContaining(['priorities.critica', 'priorities.critica.first_response']),
      )
    }
  })
})
