import type { Decision } from '../triage/triage.js'

// Admins read these notes: Spanish, as the console.
const INTENT_ES: Record<string, string> = {
  faq: 'pregunta frecuente',
  sales: 'venta',
  quote: 'cotización',
  complaint: 'reclamo',
  legal: 'legal',
  payment: 'pago',
  support: 'soporte técnico',
  suggestion: 'sugerencia',
  other: 'otro',
}
const SIGNAL_ES: Record<string, string> = {
  legal_threat: 'amenaza legal',
  property_damage: 'daño a la propiedad',
  injury: 'lesión o accidente',
  media_threat: 'amenaza de exponerlo en medios o redes',
  repeat_complainer: 'cliente con reclamos reiterados',
}
const PRIORITY_ES: Record<string, string> = {
  critica: 'crítica',
  alta: 'alta',
  media: 'media',
  baja: 'baja',
}

export function intentLabel(intent: string): string {
  return INTENT_ES[intent] ?? intent
}

export function signalLabel(signal: string): string {
  return SIGNAL_ES[signal] ?? signal
}

/** The private note that tells the admins what the hub decided and why. */
export function decisionNote(
  decision: Decision,
  extra: { ticket?: string | null; queueName?: string | null; notes?: readonly string[] } = {},
): string {
  const e = decision.explanation
  const lines = [
    `centralita · ${intentLabel(decision.intent)} (${Math.round(decision.confidence * 100)} %) · prioridad ${PRIORITY_ES[decision.priority] ?? decision.priority}${decision.level ? ` · nivel ${decision.level}` : ''}`,
  ]
  if (extra.queueName ?? decision.queue) lines.push(`Cola: ${extra.queueName ?? decision.queue}`)
  if (decision.assignedOperator) lines.push(`Operador asignado: ${decision.assignedOperator}`)
  if (extra.ticket) lines.push(`Ticket: ${extra.ticket}`)
  if (decision.signals.length > 0)
    lines.push(`Señales: ${decision.signals.map(signalLabel).join(', ')}`)
  if (decision.amount !== null) lines.push(`Monto mencionado: ${decision.amount}`)
  // Several terms often match the same words ("cobraron", "me cobraron" and a typo of either):
  // the note says each match once.
  const fired = distinct(
    e.hits
      .filter((h) => !h.vetoed)
      .map(
        (h) =>
          `"${h.matched}" → ${h.group === 'signal' ? signalLabel(h.target) : intentLabel(h.target)}${h.fuzzy ? ' (con error de tipeo)' : ''}`,
      ),
  )
  if (fired.length > 0) lines.push(`Reglas: ${fired.slice(0, 6).join('; ')}`)
  const vetoed = distinct(e.hits.flatMap((h) => (h.vetoed ? [`"${h.matched}" (${h.vetoed})`] : [])))
  if (vetoed.length > 0) lines.push(`Descartadas: ${vetoed.slice(0, 3).join('; ')}`)
  if (e.classifier) {
    lines.push(
      `Clasificador: ${e.classifier.top.map((t) => `${intentLabel(t.intent)} ${Math.round(t.score * 100)} %`).join(', ')}`,
    )
  }
  if (e.routing.length > 0)
    lines.push(`Reglas de ruteo: ${e.routing.map((r) => r.rule).join(' → ')}`)
  if (decision.needsHuman) lines.push('Requiere revisión de una persona.')
  for (const note of extra.notes ?? []) lines.push(note)
  return lines.join('\n')
}

/** Why a case starts at its level, in the admins' words. */
export function levelReason(decision: Decision): string {
  const l3 = decision.signals.filter((s) => s !== 'repeat_complainer')
  if (l3.length > 0) return l3.map(signalLabel).join(', ')
  const reasons: string[] = []
  if (decision.amount !== null && decision.amount > 500)
    reasons.push(`monto reclamado ${decision.amount} (más de 500)`)
  if (decision.signals.includes('repeat_complainer')) reasons.push(signalLabel('repeat_complainer'))
  const rules = decision.explanation.routing.map((r) => r.rule)
  if (rules.includes('operator-improvement-plan')) reasons.push('operador en plan de mejora')
  if (reasons.length > 0) return reasons.join(', ')
  return decision.level === 'L1'
    ? 'reclamo estándar'
    : `nivel ${decision.level ?? '-'} por ${rules.join(', ') || 'las reglas'}`
}

const distinct = (items: string[]) => [...new Set(items)]
