import type { Lang } from './i18n.js'

// What the hub stores as codes, and the triage's English reasons, in the console's words.

/**
 * The codes the hub stores (priorities, statuses, intents, signals, levels), as a lead reads
 * them. A code without a label is shown as it is.
 */
const CODES: Record<string, readonly [string, string]> = {
  // priorities
  critica: ['crítica', 'critical'],
  alta: ['alta', 'high'],
  media: ['media', 'medium'],
  baja: ['baja', 'low'],
  // ticket and escalation statuses
  abierto: ['abierto', 'open'],
  en_proceso: ['en proceso', 'in progress'],
  resuelto: ['resuelto', 'resolved'],
  cerrado_sin_resolver: ['cerrado sin resolver', 'closed unresolved'],
  pendiente: ['pendiente de aceptar', 'waiting to be accepted'],
  open: ['abiertos', 'open'],
  // intents
  faq: ['pregunta frecuente', 'FAQ'],
  sales: ['venta', 'sale'],
  quote: ['cotización', 'quote request'],
  complaint: ['queja', 'complaint'],
  legal: ['asunto legal', 'legal matter'],
  payment: ['problema de pago', 'payment problem'],
  support: ['problema técnico', 'technical problem'],
  suggestion: ['sugerencia', 'suggestion'],
  other: ['otro', 'other'],
  // ticket types and replies
  reclamo: ['reclamo', 'complaint'],
  consulta: ['consulta', 'enquiry'],
  incidencia: ['incidencia', 'incident'],
  none: ['ninguna', 'none'],
  ack: ['acuse de recibo', 'acknowledgement'],
  out_of_hours: ['aviso fuera de horario', 'out-of-hours notice'],
  welcome: ['bienvenida', 'welcome'],
  handoff: ['paso a una persona', 'handoff to a person'],
  operator: ['operador', 'operator'],
  // signals
  legal_threat: ['amenaza legal', 'legal threat'],
  property_damage: ['daño a la propiedad', 'property damage'],
  injury: ['lesión', 'injury'],
  media_threat: ['amenaza de ir a los medios', 'media threat'],
  amount: ['monto elevado', 'large amount'],
  repeat_complainer: ['cliente que ya se quejó', 'repeat complainer'],
  // urgencies
  normal: ['a tiempo', 'on time'],
  advertencia: ['advertencia', 'warning'],
  critico: ['a punto de vencer', 'about to breach'],
  vencido: ['vencido', 'breached'],
  // outbox statuses
  pending: ['pendiente', 'pending'],
  running: ['enviándose', 'sending'],
  done: ['enviado', 'sent'],
  failed: ['reintentando', 'retrying'],
  dead: ['falló', 'failed'],
  // what the outbox sends
  'email.send': ['correo', 'email'],
  'push.send': ['aviso push', 'push notice'],
  'sms.send': ['SMS', 'SMS'],
  'sms.call': ['llamada', 'phone call'],
  'internal.send': ['chat interno', 'internal chat'],
  'whatsapp.cloud.send': ['WhatsApp', 'WhatsApp'],
  'whatsapp.web.send': ['WhatsApp Web', 'WhatsApp Web'],
  'chatwoot.message': ['mensaje en Chatwoot', 'Chatwoot message'],
  'chatwoot.note': ['nota en Chatwoot', 'Chatwoot note'],
  // message authors
  customer: ['cliente', 'customer'],
  visitor: ['cliente', 'customer'],
  agent: ['agente', 'agent'],
  bot: ['respuesta automática', 'automatic answer'],
  system: ['sistema', 'system'],
}

export const label = (lang: Lang, code: string | null | undefined): string =>
  code === null || code === undefined ? '—' : (CODES[code]?.[lang === 'en' ? 1 : 0] ?? code)

/**
 * The triage's reasons (English, as the engine and the API give them) as sentences in the
 * console's language: the engine's usual shapes are translated, anything else shown as is.
 */
const REASONS_ES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^the customer asks to talk to a person$/, () => 'el cliente pide hablar con una persona'],
  [
    /^priority (\w+) from rule (.+)$/,
    (m) => `prioridad ${label('es', m[1])} por la regla «${m[2]}»`,
  ],
  [
    /^priority (\w+) by default: no rule set one$/,
    (m) => `prioridad ${label('es', m[1])} por defecto: ninguna regla fijó otra`,
  ],
  [/^level (L[123]) from rule (.+)$/, (m) => `nivel ${m[1]} por la regla «${m[2]}»`],
  [
    /^no automatic reply: (.+); a person answers$/,
    (m) => `sin respuesta automática (${m[1]}): responde una persona`,
  ],
  [/^no automatic reply: (.+)$/, (m) => `sin respuesta automática: ${m[1]}`],
  [
    /^confidence ([\d.]+) below ([\d.]+): a person decides$/,
    (m) => `confianza ${m[1]}, bajo el mínimo ${m[2]}: decide una persona`,
  ],
  [
    /^(\w+) and (\w+) too close \(margin ([\d.]+)\): a person decides$/,
    (m) =>
      `${label('es', m[1])} y ${label('es', m[2])} demasiado parecidas (margen ${m[3]}): decide una persona`,
  ],
  [
    /^no FAQ entry resembles the message: a person answers$/,
    () => 'ninguna pregunta frecuente se parece al mensaje: responde una persona',
  ],
  [
    /^closest FAQ "([^"]+)" only ([\d.]+) similar \(needs ([\d.]+)\): a person answers$/,
    (m) =>
      `la pregunta frecuente más cercana («${m[1]}») se parece solo ${m[2]} (se pide ${m[3]}): responde una persona`,
  ],
  [
    /^(\w+) alert not sent: not configured$/,
    (m) => `alerta por ${m[1]} no enviada: no está configurada`,
  ],
  [
    /^(\w+) alert not sent: nobody to (\w+) for (.+)$/,
    (m) => `alerta por ${m[1]} no enviada: nadie a quien avisar en ${m[3]}`,
  ],
]

export function reasonText(lang: Lang, reason: string): string {
  if (lang === 'en') return reason
  for (const [pattern, say] of REASONS_ES) {
    const m = pattern.exec(reason)
    if (m) return say(m)
  }
  return reason
}

/** The names of a routing rule's conditions and outcomes (routing.yaml keys). */
const CONDITIONS: Record<string, readonly [string, string]> = {
  intent: ['intención', 'intent'],
  signal: ['señal', 'signal'],
  amount_over: ['monto sobre', 'amount over'],
  repeat_complainer: ['cliente que ya se quejó', 'repeat complainer'],
  improvement_plan: ['operador en plan de mejora', 'operator on an improvement plan'],
  role: ['quien escribe', 'who writes'],
  channel: ['canal', 'channel'],
  business_hours: ['en horario', 'in business hours'],
  language: ['idioma', 'language'],
  queue: ['cola', 'queue'],
  priority: ['prioridad', 'priority'],
  level: ['nivel', 'level'],
  ticket: ['caso', 'case'],
  reply: ['respuesta', 'reply'],
}

export const conditionName = (lang: Lang, key: string): string =>
  CONDITIONS[key]?.[lang === 'en' ? 1 : 0] ?? key
