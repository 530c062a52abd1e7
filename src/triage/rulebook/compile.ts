import { ConfigError } from '../../errors.js'
import { compileFaq, type FaqIndex } from '../faq-answerer.js'
import { compileTerms, type TermIndex } from '../match-terms.js'
import { formatIssues, loadRulebookSource } from './load.js'
import type { RulebookSource } from './schema.js'

/** A validated rulebook, compiled for matching. Immutable: a reload builds a new one. */
export type Rulebook = {
  version: string
  dir: string
  source: RulebookSource
  terms: TermIndex
  faq: FaqIndex
}

export function compileRulebook(source: RulebookSource, version: string, dir: string): Rulebook {
  return {
    version,
    dir,
    source,
    terms: compileTerms(source.intents.intents, source.intents.signals),
    faq: compileFaq(source.faq),
  }
}

/** Loads and compiles the rulebook in `dir`; throws a ConfigError listing every problem. */
export function loadRulebook(dir: string): Rulebook {
  const loaded = loadRulebookSource(dir)
  if (!loaded.ok)
    throw new ConfigError(`invalid rulebook in ${dir}:\n${formatIssues(loaded.issues)}`)
  return compileRulebook(loaded.source, loaded.version, dir)
}
