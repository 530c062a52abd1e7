import type { Decision } from '../../src/triage/triage.js'

/** A decision as the triage writes one, for tests where what it says does not matter. */
export function someDecision(fields: Partial<Decision> = {}): Decision {
  return {
    intent: 'faq',
    confidence: 1,
    priority: 'baja',
    level: null,
    signals: [],
    amount: null,
    language: 'es',
    queue: 'atencion',
    needsHuman: false,
    ticket: null,
    reply: null,
    explanation: {},
    ...fields,
  } as unknown as Decision
}
