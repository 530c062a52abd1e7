import { type FSWatcher, watch } from 'node:fs'
import type { Logger } from '../../kit/logger.js'
import { compileRulebook, type Rulebook } from './compile.js'
import { loadRulebookSource, type RulebookIssue } from './load.js'

export type RulebookState = {
  version: string
  loadedAt: Date
  /** Problems of the newest files on disk when they were refused (the last good version runs). */
  rejected: { at: Date; issues: RulebookIssue[] } | null
}

export type RulebookSource = {
  current(): Rulebook
  state(): RulebookState
  /** Re-reads the files now; returns the issues when they were refused. */
  reload(): RulebookIssue[] | null
  close(): void
}

/**
 * Keeps the current rulebook, reloading it when a file in `dir` changes. A new version that
 * does not validate is refused and logged with its problems; the last good one keeps running.
 */
export function watchRulebook(
  initial: Rulebook,
  logger: Logger,
  options: { debounceMs?: number; watch?: boolean } = {},
): RulebookSource {
  let current = initial
  let state: RulebookState = { version: initial.version, loadedAt: new Date(), rejected: null }
  const reload = (): RulebookIssue[] | null => {
    const loaded = loadRulebookSource(initial.dir, initial.inboxes)
    if (!loaded.ok) {
      state = { ...state, rejected: { at: new Date(), issues: loaded.issues } }
      logger.warn(
        { dir: initial.dir, issues: loaded.issues },
        'rulebook change refused, keeping the last good version',
      )
      return loaded.issues
    }
    if (loaded.version !== current.version) {
      current = compileRulebook(loaded.source, loaded.version, initial.dir, initial.inboxes)
      logger.info({ version: loaded.version, previous: state.version }, 'rulebook reloaded')
    }
    state = { version: loaded.version, loadedAt: new Date(), rejected: null }
    return null
  }
  let watcher: FSWatcher | null = null
  let timer: NodeJS.Timeout | null = null
  if (options.watch !== false) {
    try {
      watcher = watch(initial.dir, { persistent: false }, () => {
        if (timer) clearTimeout(timer)
        timer = setTimeout(reload, options.debounceMs ?? 200)
      })
      watcher.on('error', (err) => logger.warn({ err }, 'rulebook watch stopped'))
    } catch (err) {
      logger.warn({ err, dir: initial.dir }, 'rulebook not watched: changes need a restart')
    }
  }
  return {
    current: () => current,
    state: () => state,
    reload,
    close: () => {
      if (timer) clearTimeout(timer)
      watcher?.close()
    },
  }
}
