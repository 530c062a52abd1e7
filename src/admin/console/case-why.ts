import { fold } from '../../kit/fold.js'

/** What `whyHere` reads of a case (the admin service's ticket detail has all of it). */
export type CaseFacts = {
  ticket: { level: string | null; queue: string; messageId?: number | null }
  interactions: readonly { id: number; text: string; sentAt: number; direction: string }[]
  decisions: readonly {
    id: number
    messageId: number
    intent: string
    level: string | null
    queue: string | null
    signals: unknown
    explanation: unknown
    createdAt: number
  }[]
  escalations: readonly {
    toLevel: string
    fromLevel: string | null
    reason: string
    escalatedBy: string
    createdAt: number
  }[]
}

/**
 * Why a case is at its queue and level, told from the moment that put it there:
 * - `words`: the customer wrote something the rules read as a reason (the decisive message,
 *   quoted, and the signals or intent that decided);
 * - `person`: someone escalated it, with their reason;
 * - `clock`: a level's deadline passed with nobody taking the case.
 */
export type Why =
  | {
      kind: 'words'
      at: number
      level: string | null
      queue: string
      quote: string
      /** Signal ids (L3 reasons) when there are, else the intent id. */
      codes: string[]
      decisionId: number
    }
  | { kind: 'person'; at: number; level: string; queue: string; by: string; reason: string }
  | { kind: 'clock'; at: number; level: string; queue: string; reason: string }

const SYSTEM = /^centralita\b/
const LEVEL_SIGNALS = ['legal_threat', 'property_damage', 'injury', 'media_threat']

export function whyHere(facts: CaseFacts): Why | null {
  const { ticket } = facts
  const level = ticket.level
  const escalation = level
    ? facts.escalations.findLast((e) => e.toLevel === level && e.fromLevel !== e.toLevel)
    : undefined
  if (escalation && !SYSTEM.test(escalation.escalatedBy))
    return {
      kind: 'person',
      at: escalation.createdAt,
      level: escalation.toLevel,
      queue: ticket.queue,
      by: escalation.escalatedBy,
      reason: escalation.reason,
    }
  if (escalation && /SLA/.test(escalation.escalatedBy))
    return {
      kind: 'clock',
      at: escalation.createdAt,
      level: escalation.toLevel,
      queue: ticket.queue,
      reason: escalation.reason,
    }
  // The rules put it there: the first message decided at the case's level (and, without a
  // level, the message that opened the case, or the first one routed to its queue).
  const decisive =
    (level && facts.decisions.find((d) => d.level === level)) ||
    facts.decisions.find((d) => d.messageId === ticket.messageId) ||
    facts.decisions.find((d) => d.queue === ticket.queue) ||
    facts.decisions[0]
  if (!decisive) return null
  const message = facts.interactions.find((m) => m.id === decisive.messageId)
  const signals = (Array.isArray(decisive.signals) ? decisive.signals : []).filter(
    (s): s is string => typeof s === 'string',
  )
  const levelSignals = signals.filter((s) => LEVEL_SIGNALS.includes(s))
  const codes = levelSignals.length > 0 ? levelSignals : [decisive.intent]
  return {
    kind: 'words',
    at: message?.sentAt ?? decisive.createdAt,
    level,
    queue: ticket.queue,
    quote: quoteOf(message?.text ?? '', matchedWords(decisive.explanation, codes)),
    codes,
    decisionId: decisive.id,
  }
}

/** The words of the message that fired the deciding rules (signals, or the intent). */
function matchedWords(explanation: unknown, targets: readonly string[]): string[] {
  const hits = (explanation as { hits?: unknown } | null)?.hits
  if (!Array.isArray(hits)) return []
  return hits
    .filter(
      (h): h is { target: string; matched: string; vetoed?: string } =>
        typeof h?.target === 'string' && typeof h?.matched === 'string' && !h.vetoed,
    )
    .filter((h) => targets.includes(h.target))
    .map((h) => h.matched)
}

/**
 * The sentence of `text` that holds the first of `words` (compared without accents or case),
 * or the message's start: at most 160 characters, cut at a word.
 */
export function quoteOf(text: string, words: readonly string[]): string {
  const sentences = text
    .split(/(?<=[.!?\n])\s+/)
    .map((s) => s.trim())
    .filter(Boolean)
  const folded = words.map((w) => fold(w.toLowerCase())).filter(Boolean)
  const found =
    sentences.find((s) => folded.some((w) => fold(s.toLowerCase()).includes(w))) ??
    sentences[0] ??
    ''
  if (found.length <= 160) return found
  const cut = found.slice(0, 159)
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 100))}…`
}
