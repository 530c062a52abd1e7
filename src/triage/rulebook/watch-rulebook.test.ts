import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RULES_DIR, tempDir } from '../../../test/helpers/hub.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { silentLogger } from '../../kit/logger.js'
import { loadRulebook } from './compile.js'
import { watchRulebook } from './watch-rulebook.js'

describe('watchRulebook', () => {
  let temp: ReturnType<typeof tempDir>
  let source: ReturnType<typeof watchRulebook> | null = null
  beforeEach(() => {
    temp = tempDir()
    cpSync(RULES_DIR, temp.dir, { recursive: true })
  })
  afterEach(() => {
    source?.close()
    temp.cleanup()
  })
  const edit = (file: string, change: (text: string) => string) => {
    const path = join(temp.dir, file)
    writeFileSync(path, change(readFileSync(path, 'utf8')))
  }

  it('picks up a valid change without a restart', async () => {
    source = watchRulebook(loadRulebook(temp.dir), silentLogger, { debounceMs: 20 })
    const before = source.current().version
    edit('settings.yaml', (t) => t.replace('default_queue: general', 'default_queue: calidad'))
    await waitFor(() => source!.current().version !== before, { what: 'rulebook reload' })
    expect(source.current().source.settings.default_queue).toBe('calidad')
    expect(source.state().rejected).toBeNull()
  })

  it('keeps the last good version when the new files are invalid, and says why', async () => {
    source = watchRulebook(loadRulebook(temp.dir), silentLogger, { debounceMs: 20 })
    const before = source.current()
    edit('routing.yaml', (t) => t.replace('queue: calidad', 'queue: nowhere'))
    await waitFor(() => source!.state().rejected, { what: 'refused reload' })
    expect(source.current()).toBe(before)
    expect(source.state().rejected?.issues[0]).toMatchObject({
      file: 'routing.yaml',
      message: 'unknown queue "nowhere"',
    })
    // Fixing the file brings the new version in.
    edit('routing.yaml', (t) => t.replace('queue: nowhere', 'queue: supervisor'))
    await waitFor(() => source!.state().rejected === null && source!.current() !== before, {
      what: 'fixed reload',
    })
  })

  it('reloads when a holiday file changes', () => {
    source = watchRulebook(loadRulebook(temp.dir), silentLogger, { watch: false })
    const before = source.current().version
    edit('feriados-chile.ics', (t) =>
      t.replace(
        'END:VCALENDAR',
        'BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261124\nEND:VEVENT\nEND:VCALENDAR',
      ),
    )
    expect(source.reload()).toBeNull()
    expect(source.current().version).not.toBe(before)
    expect(source.current().calendarFor('chatwoot').holidays.has('2026-11-24')).toBe(true)
  })
})
