// The ids the rulebook's files use, without their schemas: the text-analysis thread
// (`src/worker/text-analysis-thread.ts`) needs the lists and not zod, which would cost it 11 MB.

export const INTENTS = [
  'faq',
  'sales',
  'quote',
  'complaint',
  'legal',
  'payment',
  'support',
  'suggestion',
  'other',
] as const

export const SIGNALS = ['legal_threat', 'property_damage', 'injury', 'media_threat'] as const

/**
 * What a message does in the conversation besides its intent: a greeting or a closing
 * ("gracias", "ok") with nothing else in it, or a request to talk to a person.
 */
export const ACTS = ['greeting', 'closing', 'person_request'] as const

export const PRIORITIES = ['critica', 'alta', 'media', 'baja'] as const

export const LEVELS = ['L1', 'L2', 'L3'] as const

export const TICKET_TYPES = [
  'consulta',
  'reclamo',
  'sugerencia',
  'incidencia',
  'solicitud de cambio',
] as const
