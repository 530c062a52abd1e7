import { html } from './html.js'
import { type Lang, t } from './i18n.js'

/**
 * The rule hits of a decision: each match once (several terms often find the same words), and
 * the ones a negation or an exception set aside apart, so a negated threat does not read as one.
 */
export function ruleHits(
  hits: readonly { target: string; matched: string; vetoed?: string }[],
  lang: Lang,
) {
  const once = (items: string[]) => [...new Set(items)]
  const fired = once(hits.filter((h) => !h.vetoed).map((h) => `${h.target}: “${h.matched}”`))
  const aside = once(
    hits.flatMap((h) => (h.vetoed ? [`${h.target}: “${h.matched}” (${h.vetoed})`] : [])),
  )
  return html`${fired.length ? html`<p class="muted" id="rules-fired">${t(lang, 'rulesFired')}: ${fired.join(' · ')}</p>` : ''}${aside.length ? html`<p class="muted" id="rules-set-aside">${t(lang, 'setAside')}: ${aside.join(' · ')}</p>` : ''}`
}
