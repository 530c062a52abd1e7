import { beforeAll, describe, expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { silentLogger } from '../kit/logger.js'
import { loadCorpus } from './classifier/corpus.js'
import { loadClassifier } from './classifier/load-classifier.js'
import { loadRulebook, type Rulebook } from './rulebook/compile.js'
import { analyzeText, type IntentClassifier, type TriageInput, triage } from './triage.js'

let rulebook: Rulebook
let classifier: IntentClassifier
beforeAll(() => {
  rulebook = loadRulebook(RULES_DIR)
  classifier = loadClassifier({ corpusDir: 'data/corpus', cacheDir: 'data/model' }, silentLogger)
})
const decide = (text: string, extra: Partial<TriageInput> = {}) =>
  triage({ text, ...extra }, rulebook, classifier)

describe('L3 signals', () => {
  it.each([
    ['Los voy a demandar', 'legal_threat'],
    ['Si no me devuelven la plata, los demando', 'legal_threat'],
    ['si no responden tomaré medidas legales', 'legal_threat'],
    ['los voy a demnadar', 'legal_threat'], // one typo
    ['LOS VOY A DEMANDAR!!!', 'legal_threat'],
    ['ya hable con mi abogado y vamos a tribunales', 'legal_threat'], // no accents
    ['I will sue you', 'legal_threat'],
    ['rayaron mi auto en el lavado', 'property_damage'],
    ['me entregaron la camioneta con el espejo roto', 'property_damage'],
    ['you scratched my car door', 'property_damage'],
    ['me resbalé en el piso mojado y me lastimé la rodilla', 'injury'],
    ['my son fell in the waiting room and cut his head', 'injury'],
    ['voy a publicar en facebook lo que me hicieron', 'media_threat'],
    ['los voy a funar en todas las redes', 'media_threat'],
    ["I'm posting this on Instagram tonight", 'media_threat'],
    ['me dio una alergia en la piel el producto de los asientos', 'injury'],
    ['terminé en la clínica por el golpe', 'injury'],
    ['the antenna got snapped in the tunnel', 'property_damage'],
    ['esto va directo a mis historias de instagram', 'media_threat'],
    ['the cleaner bleached spots into my carpet', 'property_damage'],
    ['this is going straight on my blog', 'media_threat'],
    ['your worker splashed chemicals in my eye', 'injury'],
    ['my legal team will contact you', 'legal_threat'],
    ['the dog bit my daughter in your lobby', 'injury'],
    ['nos vemos en la corte', 'legal_threat'],
    ['no dudaré en demandarlos', 'legal_threat'], // a denied negation is a threat
    ["I'm not ruling out legal action", 'legal_threat'],
  ])('"%s" → %s, level L3', (text, signal) => {
    const d = decide(text)
    expect(d.signals).toContain(signal)
    expect(d.level).toBe('L3')
    expect(d.priority).toBe('critica')
    expect(d.reply).toBeNull()
  })

  it.each([
    ['no quiero demandar a nadie, solo quiero mi dinero'], // negation
    ['nunca pensé en demandarlos, solo quiero una solución'], // negation
    ['mi abogado me recomendó esta tienda'], // third-party mention
    ['soy abogado y quiero cotizar el lavado de 3 autos'], // profession, not a threat
    ['hay mucha demanda de este producto?'], // "demanda" as in demand
    ['I do not want to sue anyone'],
    ['el producto llegó roto'], // goods broken in transit: an ordinary complaint
    ['quedaron rayas de jabón en el parabrisas'], // soap streaks are not damage
    ['se cayó la app cuando iba a pagar'], // an app crash is not a fall
    ['los vi en redes sociales y quería saber el precio'], // found them on social media
    ["Hi, I'm a journalist writing about local businesses, could I interview the owner?"],
    ['soy periodista y quería hacer una nota sobre su local'],
    ['me quedé esperando una hora'], // "me quedé" is not "me quemé"
    ['I follow your blog, great tips'],
    ['el auto salió igual de sucio'], // "salió" is the car coming out, not a part coming off
    ['les dejé cinco estrellas en google, excelente servicio'], // praise, not a threat
    ['I left a 5 star review on Google, thanks!'],
    ['I waited a bit for my car'], // "a bit" is not a bite
    ['no los voy a demandar, solo quiero que me devuelvan la plata'], // negation past "los"
  ])('"%s" raises no L3 signal', (text) => {
    const d = decide(text)
    expect(d.signals.filter((s) => s !== 'repeat_complainer')).toEqual([])
    expect(d.level).not.toBe('L3')
  })

  it('explains which rule fired and which were cancelled', () => {
    const d = decide('no quiero demandar, pero mi abogado me recomendó escribirles')
    const vetoed = d.explanation.hits.filter((h) => h.vetoed)
    expect(vetoed.map((h) => h.vetoed)).toEqual(
      expect.arrayContaining(['negated by "no"', expect.stringMatching(/^exception/)]),
    )
  })
})

describe('intents', () => {
  it.each([
    ['¿A qué hora abren el sábado?', 'faq'],
    ['a q hora abren los domingos?', 'faq'], // shorthand, no accents
    ['What are your opening hours?', 'faq'],
    ['Quiero contratar el plan mensual', 'sales'],
    ['kiero comprar una gift card porfa', 'sales'],
    ['Necesito cotizar el lavado de 20 camionetas para mi empresa', 'quote'],
    ['Could you send us a quote for our fleet of 12 vans?', 'quote'],
    ['El servicio fue pésimo, el auto quedó sucio', 'complaint'],
    ['me cobraron dos veces el lavado', 'payment'],
    ['I was charged twice', 'payment'],
    ['la caja no cuadra, faltan 20 mil', 'payment'],
    ['no puedo entrar a la app, dice contraseña incorrecta', 'support'],
    ['Sería bueno que abrieran los domingos', 'suggestion'],
    ['Hola, quiero el plan premium pero how much is it?', 'sales'], // mixed language
  ])('"%s" → %s', (text, intent) => {
    expect(decide(text).intent).toBe(intent)
  })

  it('detects the language of the message', () => {
    expect(decide('¿Cuánto cuesta el lavado?').language).toBe('es')
    expect(decide('How much is the wash?').language).toBe('en')
  })

  it('gives the classifier scores and the combined ranking in the explanation', () => {
    const d = decide('Quiero contratar el plan mensual')
    expect(d.explanation.classifier?.top[0]?.intent).toBeDefined()
    expect(d.explanation.combined[0]).toMatchObject({ intent: 'sales' })
    expect(d.explanation.reasons.join(' ')).toMatch(/priority media from rule sales/)
  })

  it('writes the scores in the explanation as people read them, not as float noise', () => {
    // Rule weights add up to sums like 3.0000000000000004; admins read the explanation.
    const d = decide('¿Cuál es el horario de atención? ¿Y los horarios del sábado?')
    const written = JSON.stringify(d.explanation)
    expect(written).not.toMatch(/\d\.\d{4,}/)
    expect(d.explanation.intentReason).toMatch(/^highest combined score \(rules \d+(\.\d{1,3})?,/)
  })
})

describe('amounts and escalation', () => {
  it.each(['$800', '800 USD', 'US$ 800', '800 dólares'])(
    'a complaint claiming %s goes to the supervisor (L2)',
    (amount) => {
      const d = decide(`El lavado fue un desastre y exijo que me devuelvan ${amount}`)
      expect(d.amount).toBe(800)
      expect(d.level).toBe('L2')
      expect(d.queue).toBe('supervisor')
    },
  )

  it('a third complaint within the window makes a repeat complainer (L2)', () => {
    const d = decide('Otra vez me atendieron pésimo', { context: { recentComplaints: 2 } })
    expect(d.signals).toContain('repeat_complainer')
    expect(d.level).toBe('L2')
    expect(
      decide('Otra vez me atendieron pésimo', { context: { recentComplaints: 1 } }).level,
    ).toBe('L1')
  })

  it('counts earlier complaints only for a complaint (the count is a query)', () => {
    let counted = 0
    const recentComplaints = () => {
      counted++
      return 2
    }
    expect(decide('¿A qué hora abren?', { context: { recentComplaints } }).signals).toEqual([])
    expect(counted).toBe(0)
    const d = decide('Otra vez me atendieron pésimo', { context: { recentComplaints } })
    expect([d.signals, d.level, counted]).toEqual([['repeat_complainer'], 'L2', 1])
  })
})

describe('automatic replies', () => {
  it('answers an FAQ from the knowledge base', () => {
    const d = decide('¿A qué hora abren el sábado?')
    expect(d.reply).toMatchObject({ kind: 'faq', faqId: 'horarios' })
  })

  it.each([
    ['El servicio fue pésimo y quiero saber a qué hora abren para ir a reclamar'],
    ['me cobraron dos veces, ¿cuáles son sus formas de pago?'],
    ['¿A qué hora abren? Los voy a demandar'],
    ['the express wash took over an hour, terrible'],
  ])('never answers a complaint, legal threat or payment problem automatically: "%s"', (text) => {
    expect(decide(text).reply).toBeNull()
  })

  it('does not answer a statement that only shares words with an FAQ', () => {
    expect(decide('La sucursal estaba cerrada en horario de atención').reply).toBeNull()
  })

  it('sends the out-of-hours notice instead of the acknowledgement when closed', () => {
    expect(
      decide('Quiero contratar el plan mensual', { context: { inHours: true } }).reply,
    ).toEqual({ kind: 'ack' })
    expect(
      decide('Quiero contratar el plan mensual', { context: { inHours: false } }).reply,
    ).toEqual({ kind: 'out_of_hours' })
    // FAQ answers go out at any hour.
    expect(
      decide('¿A qué hora abren el sábado?', { context: { inHours: false } }).reply?.kind,
    ).toBe('faq')
  })

  it('acknowledges only what the rules recognise, never on the classifier alone', () => {
    // A classifier certain that everything is a suggestion.
    const sure: IntentClassifier = {
      name: 'always suggestion',
      scores: () => new Map([['suggestion', 0.97] as const, ['complaint', 0.03] as const]),
    }
    const alone = triage({ text: 'Siempre atiende una sola persona en la caja' }, rulebook, sure)
    expect(alone.intent).toBe('suggestion')
    expect(alone.reply).toBeNull()
    expect(alone.explanation.reasons.join('\n')).toMatch(
      /only the classifier reads this as suggestion/,
    )
    const named = triage({ text: 'Les sugiero poner una máquina de café' }, rulebook, sure)
    expect(named.reply).toEqual({ kind: 'ack' })
    // Unsure: a person takes it, and the customer is told so (with the default response time).
    const torn: IntentClassifier = {
      name: 'torn',
      scores: () => new Map([['suggestion', 0.5] as const, ['sales', 0.5] as const]),
    }
    const unsure = triage({ text: 'Siempre atiende una sola persona en la caja' }, rulebook, torn)
    expect(unsure.needsHuman).toBe(true)
    expect(unsure.reply).toEqual({ kind: 'ack' })
  })

  it('sends a message nobody can place to a person, with a ticket in the default queue', () => {
    const d = decide('quería preguntarles algo sobre mi caso')
    expect(d.needsHuman).toBe(true)
    expect(d.queue).toBe('general')
    expect(d.ticket).toBe('consulta')
  })
})

describe('routing by channel and role', () => {
  it('sends an operator’s till problem on the internal chat to finance', () => {
    const d = decide('la caja del turno no cuadra', { channel: 'internal', role: 'operator' })
    expect(d).toMatchObject({ intent: 'payment', queue: 'finanzas' })
  })

  it('sends a registered customer’s message to their assigned operator', () => {
    const d = decide('hola, necesito ayuda con mi reserva', {
      channel: 'internal',
      role: 'customer',
      context: { assignedOperator: 'op-17' },
    })
    expect(d.assignedOperator).toBe('op-17')
  })
})

describe('a text analysis worked out ahead', () => {
  it('decides exactly as triage does alone, after crossing a thread boundary', () => {
    // structuredClone is what postMessage does to the analysis between the threads.
    const rows = loadCorpus('data/corpus').rows.filter((_, i) => i % 5 === 0)
    const contexts = [
      { inHours: true, recentComplaints: 0 },
      { inHours: false, recentComplaints: 3 },
    ]
    for (const [i, row] of rows.entries()) {
      const input: TriageInput = {
        text: row.text,
        subject: i % 3 === 0 ? 'Consulta' : null,
        channel: 'chatwoot',
        language: i % 4 === 0 ? row.lang : null,
        context: contexts[i % 2]!,
      }
      const ahead = structuredClone(analyzeText(input, rulebook, classifier))
      expect(triage(input, rulebook, classifier, ahead)).toEqual(
        triage(input, rulebook, classifier),
      )
    }
  })

  it('is not used when it was worked out with another rulebook or classifier', () => {
    const input = { text: 'Los voy a demandar' }
    const other = analyzeText({ text: '¿Cuál es el horario de atención?' }, rulebook, classifier)
    const alone = triage(input, rulebook, classifier)
    expect(alone.intent).toBe('legal')
    for (const stale of [
      { ...other, rulebookVersion: 'an older rulebook' },
      { ...other, classifierName: 'another model' },
    ]) {
      expect(triage(input, rulebook, classifier, stale)).toEqual(alone)
    }
    // The same analysis with the current versions is used (and so gives the other text's answer).
    expect(triage(input, rulebook, classifier, other).intent).toBe('faq')
  })
})

describe('what a message does besides its intent', () => {
  it.each([
    ['hola', 'greeting'],
    ['Buenas tardes', 'greeting'],
    ['holaaa buenos días!', 'greeting'],
    ['Hi there', 'greeting'],
    ['good morning', 'greeting'],
    ['👋', 'greeting'],
    ['gracias!!', 'closing'],
    ['ok', 'closing'],
    ['Ok, muchas gracias', 'closing'],
    ['listo, perfecto', 'closing'],
    ['thanks a lot', 'closing'],
    ['👍', 'closing'],
  ])('%s alone is a %s, with nothing else to classify', (text, act) => {
    const d = decide(text, { channel: 'whatsapp', context: { inHours: true } })
    expect(d.acts).toEqual([act])
    expect(d).toMatchObject({ intent: 'other', confidence: 1, queue: null, ticket: null })
    expect(d.reply).toEqual(act === 'greeting' ? { kind: 'welcome' } : null)
  })

  it.each([
    'hola, ¿a qué hora abren?',
    'gracias, pero el lavado quedó pésimo',
    'ok y cuánto cuesta el lavado completo?',
    'buenas, me rayaron el auto',
  ])('"%s" says more than a greeting or a thank-you', (text) => {
    const d = decide(text)
    expect(d.acts).toEqual([])
    expect(d.intent).not.toBe('other')
  })

  it.each([
    'necesito hablar con alguien',
    'quiero hablar con una persona',
    'me pueden comunicar con un ejecutivo por favor',
    'quiero que me atienda un humano, no un bot',
    'talk to a human',
    'Can I speak with an agent?',
    'I need a real person',
  ])('"%s" asks for a person: handed over with an acknowledgement', (text) => {
    const d = decide(text, { channel: 'whatsapp', context: { inHours: true } })
    expect(d.acts).toContain('person_request')
    expect(d.reply).toEqual({ kind: 'handoff' })
    expect(d.ticket).toBe('consulta')
    expect(d.queue).toBe('general')
    expect(d.explanation.reasons).toContain('the customer asks to talk to a person')
  })

  it('keeps the queue of what the message is about when it also asks for a person', () => {
    const d = decide('quiero hablar con un vendedor, me interesa comprar el plan mensual')
    expect(d).toMatchObject({ intent: 'sales', queue: 'ventas', reply: { kind: 'handoff' } })
  })

  it('still never answers a complaint that asks for a person', () => {
    const d = decide('quiero hablar con un supervisor, el lavado quedó pésimo y nadie responde')
    expect(d.intent).toBe('complaint')
    expect(d.reply).toBeNull()
    expect(d.queue).toBe('calidad')
  })
})

describe('a question about paying, and a payment problem', () => {
  it.each([
    ['¿Aceptan tarjeta de crédito?', 'formas-de-pago'],
    ['¿Puedo pagar con transferencia?', 'formas-de-pago'],
    ['¿Tienen boleta o factura?', 'facturacion'],
    ['Do you accept credit cards?', 'formas-de-pago'],
  ])('"%s" is answered from the FAQ', (text, faqId) => {
    const d = decide(text, { channel: 'whatsapp', context: { inHours: true } })
    expect(d.reply).toMatchObject({ kind: 'faq', faqId })
    expect(d.explanation.replyVeto).toBeNull()
  })

  it.each([
    'me cobraron dos veces con la tarjeta',
    '¿Por qué me cobraron dos veces?',
    '¿aceptan tarjeta? porque ayer me hicieron un cobro doble',
    'I was charged twice on my card, can you refund me?',
  ])('"%s" is never answered automatically', (text) => {
    const d = decide(text, { channel: 'whatsapp', context: { inHours: true } })
    expect(d.reply).toBeNull()
    expect(d.queue).not.toBeNull()
  })

  it('reads a request to know as a question ("quisiera saber…")', () => {
    const d = decide('Buenas tardes, quisiera saber hasta qué hora atienden')
    expect(d.reply).toMatchObject({ kind: 'faq', faqId: 'horarios' })
  })
})
