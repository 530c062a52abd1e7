export type Lang = 'es' | 'en'

// The console's words, Spanish first. Keys are the Spanish text's meaning in English.
const WORDS = {
  overview: ['Resumen', 'Overview'],
  tickets: ['Casos', 'Tickets'],
  escalations: ['Escalamientos', 'Escalations'],
  rules: ['Reglas', 'Rules'],
  deadLetters: ['Envíos fallidos', 'Dead letters'],
  whatsapp: ['WhatsApp Web', 'WhatsApp Web'],
  report: ['Informe mensual', 'Monthly report'],
  logout: ['Salir', 'Log out'],
  login: ['Entrar', 'Log in'],
  loginTitle: ['Consola de centralita', 'centralita console'],
  token: ['Token de administración', 'Admin token'],
  badToken: ['Token incorrecto.', 'Wrong token.'],
  tooManyAttempts: [
    'Demasiados intentos fallidos desde esta dirección; espere unos minutos.',
    'Too many failed attempts from this address; wait a few minutes.',
  ],
  needLogin: [
    'Inicie sesión con su correo y contraseña (o con el token de administración).',
    'Log in with your email and password (or with the admin token).',
  ],
  messagesToday: [
    'Mensajes de hoy por canal e intención',
    "Today's messages by channel and intent",
  ],
  openByQueue: ['Casos abiertos por cola', 'Open tickets by queue'],
  slaAtRisk: ['SLA en riesgo', 'SLA at risk'],
  channelHealth: ['Estado de los canales', 'Channel health'],
  lastDelivery: ['Último mensaje recibido', 'Last message received'],
  never: ['nunca', 'never'],
  on: ['activo', 'on'],
  off: ['desactivado', 'off'],
  sendsOnly: ['solo envíos (alertas)', 'sends only (alerts)'],
  channel: ['Canal', 'Channel'],
  intent: ['Intención', 'Intent'],
  queue: ['Cola', 'Queue'],
  open: ['Abiertos', 'Open'],
  unanswered: ['Sin respuesta', 'Unanswered'],
  status: ['Estado', 'Status'],
  priority: ['Prioridad', 'Priority'],
  level: ['Nivel', 'Level'],
  number: ['Número', 'Number'],
  type: ['Tipo', 'Type'],
  assignee: ['Asignado a', 'Assignee'],
  deadline: ['Plazo', 'Deadline'],
  urgency: ['Urgencia', 'Urgency'],
  filter: ['Filtrar', 'Filter'],
  all: ['Todos', 'All'],
  none: ['Nada por aquí.', 'Nothing here.'],
  conversation: ['Conversación', 'Conversation'],
  decision: ['Decisión y explicación', 'Decision and explanation'],
  rulesFired: ['Reglas que coincidieron', 'Rules that matched'],
  setAside: ['Descartadas', 'Set aside'],
  notifications: ['Notificaciones', 'Notifications'],
  actions: ['Acciones', 'Actions'],
  changeStatus: ['Cambiar estado', 'Change status'],
  note: ['Nota', 'Note'],
  save: ['Guardar', 'Save'],
  assign: ['Asignar', 'Assign'],
  escalate: ['Escalar', 'Escalate'],
  customer: ['Cliente', 'Customer'],
  complaint: ['Reclamo', 'Complaint'],
  rating: ['Calificación', 'Rating'],
  currentLevel: ['Nivel actual', 'Current level'],
  reason: ['Motivo', 'Reason'],
  targetLevel: ['Nivel de destino', 'Target level'],
  recommended: ['recomendado', 'recommended'],
  notesNext: ['Notas para el siguiente nivel', 'Notes for the next level'],
  reasonAmount: ['Monto sobre mi autorización', 'Amount over my authorisation'],
  reasonDamage: ['Investigación de daños', 'Damage investigation'],
  reasonSupervisor: ['El cliente pide un supervisor', 'Customer asks for a supervisor'],
  reasonLegal: ['Posible caso legal', 'Possible legal case'],
  reasonOther: ['Otro', 'Other'],
  otherText: ['Describa el motivo', 'Describe the reason'],
  tryMessage: ['Probar un mensaje', 'Try a message'],
  tryHint: [
    'Muestra la decisión completa sin enviar nada ni guardar nada.',
    'Shows the full decision without sending or storing anything.',
  ],
  rulebookValid: ['Reglamento válido', 'Rulebook valid'],
  routing: ['Reglas de enrutamiento, en orden', 'Routing rules, in order'],
  version: ['Versión', 'Version'],
  replay: ['Reintentar', 'Replay'],
  attempts: ['Intentos', 'Attempts'],
  lastError: ['Último error', 'Last error'],
  payload: ['Contenido', 'Payload'],
  scanQr: [
    'Escanee este código con WhatsApp en el teléfono del negocio (Dispositivos vinculados).',
    "Scan this code with WhatsApp on the business's phone (Linked devices).",
  ],
  sessionState: ['Estado de la sesión', 'Session state'],
  notWeb: [
    'WhatsApp Web no está activo (WHATSAPP_MODE=web).',
    'WhatsApp Web is not on (WHATSAPP_MODE=web).',
  ],
  month: ['Mes', 'Month'],
  show: ['Ver', 'Show'],
  downloadCsv: ['Descargar CSV', 'Download CSV'],
  requests: ['Solicitudes', 'Requests'],
  firstResponse: ['Primera respuesta', 'First response'],
  resolution: ['Resolución', 'Resolution'],
  satisfaction: ['Satisfacción', 'Satisfaction'],
  recurring: ['Problemas recurrentes', 'Recurring problems'],
  withinSla: ['dentro del SLA', 'within SLA'],
  median: ['mediana', 'median'],
  repeatComplainers: ['personas con más de un reclamo', 'people with more than one complaint'],
  slaOverdue: ['SLA VENCIDO hace', 'SLA OVERDUE by'],
  slaLeft: ['quedan', 'left'],
  noDeadline: ['sin plazo', 'no deadline'],
  escalatedOk: ['Caso escalado.', 'Case escalated.'],
  saved: ['Guardado.', 'Saved.'],
  replayed: ['Reenvío en cola.', 'Queued again.'],
  created: ['Creado', 'Created'],
  refusedAnswers: [
    'Respuestas rechazadas (no enviadas al cliente)',
    'Refused answers (not sent to the customer)',
  ],
  refusedAnswer: ['Respuesta rechazada, no enviada', 'Refused answer, not sent'],
  from: ['De', 'From'],
  learning: ['Aprendizaje', 'Learning'],
  correct: ['Corregir', 'Correct'],
  correctTitle: ['Corregir la decisión', 'Correct the decision'],
  correctHint: [
    'Lo que cambie aquí queda como ejemplo para entrenar al clasificador. No cambia el caso: para eso use las acciones del caso.',
    'What you change here is kept as an example to train the classifier. It does not change the case: use the case actions for that.',
  ],
  corrected: ['Corrección guardada.', 'Correction saved.'],
  unchanged: [
    'Nada cambió: la decisión ya decía eso.',
    'Nothing changed: the decision already said so.',
  ],
  signals: ['Señales', 'Signals'],
  message: ['Mensaje', 'Message'],
  decided: ['Decidido', 'Decided'],
  correctedTo: ['Corregido a', 'Corrected to'],
  who: ['Quién', 'Who'],
  when: ['Cuándo', 'When'],
  source: ['Origen', 'Source'],
  modelInUse: ['Modelo en uso', 'Model in use'],
  corpusModel: ['modelo del corpus (sin correcciones)', 'corpus model (no corrections)'],
  modelHistory: ['Entrenamientos', 'Trainings'],
  retrainNow: ['Reentrenar ahora', 'Retrain now'],
  rollback: ['Volver al modelo anterior', 'Roll back to the previous model'],
  rolledBack: ['Modelo anterior en uso.', 'Previous model in use.'],
  adopted: ['adoptado', 'adopted'],
  refused: ['rechazado', 'refused'],
  nothingNew: ['Nada nuevo que aprender', 'Nothing new to learn'],
  liveAccuracy: [
    'Precisión en vivo: decisiones corregidas por semana e intención',
    'Live accuracy: decisions corrected per week and intent',
  ],
  correctedExamples: ['Ejemplos corregidos', 'Corrected examples'],
  correctedRules: ['Reglas que más se corrigen', 'Rules most often corrected'],
  ruleCorrected: [
    'coincidió en {fired} mensajes y se corrigió {corrected} veces',
    'fired on {fired} messages, corrected {corrected} times',
  ],
  recentDecisions: ['Decisiones recientes', 'Recent decisions'],
  exportJsonl: ['Exportar correcciones (JSONL)', 'Export corrections (JSONL)'],
  week: ['Semana', 'Week'],
  noneLevel: ['sin nivel', 'no level'],
  noQueue: ['sin cola', 'no queue'],
  email: ['Correo electrónico', 'Email'],
  password: ['Contraseña', 'Password'],
  badPassword: ['Correo o contraseña incorrectos.', 'Wrong email or password.'],
  tokenSignIn: [
    'Primera entrada y scripts: token de administración',
    'First sign-in and scripts: admin token',
  ],
  welcomeTitle: ['Elija su contraseña', 'Choose your password'],
  newPassword: ['Contraseña nueva (10 caracteres o más)', 'New password (10 characters or more)'],
  repeatPassword: ['Repita la contraseña', 'Repeat the password'],
  passwordShort: [
    'La contraseña debe tener al menos 10 caracteres.',
    'The password must be at least 10 characters long.',
  ],
  passwordLong: ['La contraseña es demasiado larga.', 'The password is too long.'],
  passwordsDiffer: ['Las dos contraseñas no coinciden.', 'The two passwords differ.'],
  linkExpired: [
    'Este enlace ya no sirve (se usó o caducó). Pida otro: centralita user link --email …',
    'This link no longer works (used or expired). Ask for another: centralita user link --email …',
  ],
  sections: ['Secciones', 'Sections'],
  search: ['Buscar', 'Search'],
  searchHint: [
    'Nombre, correo o teléfono del cliente, número de caso o palabras de un mensaje',
    "Customer's name, email or phone, case number or words of a message",
  ],
  viewAll: ['Todos los casos', 'All cases'],
  viewMine: ['Mis casos', 'My cases'],
  viewUnassigned: ['Sin asignar', 'Unassigned'],
  sortBy: ['Orden', 'Order'],
  sort_urgency: ['Urgencia (vencidos primero)', 'Urgency (breached first)'],
  sort_newest: ['Más recientes', 'Newest'],
  sort_oldest: ['Más antiguos', 'Oldest'],
  sort_priority: ['Prioridad', 'Priority'],
  caseCol: ['Caso', 'Case'],
  lastMessage: ['Último mensaje', 'Last message'],
  pageOf: ['Página {page} de {pages} · {total} casos', 'Page {page} of {pages} · {total} cases'],
  previous: ['← Anterior', '← Previous'],
  next: ['Siguiente →', 'Next →'],
  whyHere: ['Por qué está aquí', 'Why it is here'],
  caseDeadline: ['Plazo del caso', 'Case deadline'],
  due_first_response: ['primera respuesta', 'first response'],
  due_resolution: ['resolución', 'resolution'],
  due_level: ['plazo del nivel', "the level's deadline"],
  timeline: ['Historia del caso', 'Case history'],
  otherConversation: ['otra conversación', 'another conversation'],
  reply: ['Responder al cliente', 'Reply to the customer'],
  replyVia: [
    'Se envía por {channel}, a través de la cola de envíos.',
    'Sent on {channel}, through the outbox.',
  ],
  cannedAnswers: ['Respuestas predefinidas', 'Canned answers'],
  pickCanned: ['— elegir —', '— pick one —'],
  send: ['Enviar', 'Send'],
  replyQueued: ['Respuesta en cola de envío.', 'Reply queued.'],
  addNote: ['Nota interna (el cliente no la ve)', 'Internal note (the customer does not see it)'],
  saveNote: ['Guardar nota', 'Save note'],
  noteSaved: ['Nota guardada.', 'Note saved.'],
  accept: ['Aceptar', 'Accept'],
  accepted: ['Escalamiento aceptado.', 'Escalation accepted.'],
  statusNote: ['Nota del cambio (opcional)', 'Note on the change (optional)'],
  ev_note: ['Nota interna', 'Internal note'],
  ev_reply: ['Respuesta', 'Reply'],
  ev_status: ['Estado cambiado a', 'Status changed to'],
  ev_assigned: ['Asignado a', 'Assigned to'],
  ev_escalated: ['Escalado a', 'Escalated to'],
  ev_accepted: ['Aceptó el escalamiento', 'Accepted the escalation'],
  ev_escalation_closed: ['Escalamiento cerrado', 'Escalation closed'],
  ev_alert: ['Alerta', 'Alert'],
  ev_alert_not_sent: ['Alerta NO enviada', 'Alert NOT sent'],
  ev_satisfaction: ['Encuesta de satisfacción', 'Satisfaction survey'],
  delivery: ['envío', 'delivery'],
  tooLong: [
    'Tiene {n} caracteres; el máximo es 4.000. El texto sigue aquí: acórtelo y vuelva a enviar.',
    'It has {n} characters; the most is 4,000. The text is still here: shorten it and send again.',
  ],
  empty: ['Escriba algo antes de enviar.', 'Write something before sending.'],
  otherNeeded: [
    'Con el motivo «Otro», describa el motivo (3 caracteres o más).',
    'With the reason "Other", describe the reason (3 characters or more).',
  ],
  notAllowed: [
    'Su rol ({role}) no puede hacer esto con un caso en {level}: corresponde a {owner} o superior.',
    'Your role ({role}) cannot do this with a case at {level}: it is for {owner} or above.',
  ],
  alreadyAtLevel: [
    'El caso ya está en {level} o más arriba.',
    'The case is already at {level} or above.',
  ],
  couldNot: ['No se pudo completar', 'Could not be done'],
  notFound: ['No existe', 'Not found'],
  topLevel: ['El caso está en el nivel más alto (L3).', 'The case is at the top level (L3).'],
  routingHint: [
    'Se leen en orden; la primera que coincide y se detiene decide.',
    'Read in order; the first that matches and stops decides.',
  ],
  ruleWhen: ['Cuando', 'When'],
  ruleThen: ['Entonces', 'Then'],
  ruleStops: ['y no se siguen leyendo reglas', 'and no further rules are read'],
  always: ['siempre', 'always'],
  yes: ['sí', 'yes'],
  no: ['no', 'no'],
  role_agente: ['agente', 'agent'],
  role_supervisor: ['supervisor', 'supervisor'],
  role_gerencia: ['gerencia', 'management'],
  role_admin: ['administración', 'admin'],
} as const

export type Word = keyof typeof WORDS

export const t = (lang: Lang, word: Word): string => WORDS[word][lang === 'en' ? 1 : 0]

/** A word with `{name}` places filled. */
export const tf = (lang: Lang, word: Word, values: Record<string, string | number>): string =>
  t(lang, word).replace(/\{(\w+)\}/g, (all, name: string) =>
    name in values ? String(values[name]) : all,
  )

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
