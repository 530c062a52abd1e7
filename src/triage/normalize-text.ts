import stemEn from 'natural/lib/natural/stemmers/porter_stemmer.js'
import stemEs from 'natural/lib/natural/stemmers/porter_stemmer_es.js'

/** A word of the message after folding, with the stems the matcher compares. */
export type Token = {
  /** Folded surface form: lower case, no accents, repeated letters collapsed, shorthand expanded. */
  word: string
  /** Spanish stems (natural's Porter stemmer, plus the form of the word with its accent restored). */
  es: readonly string[]
  /** English stem (natural's Porter stemmer). */
  en: string
  /** Index of the clause (split at . , ; : ! ? and line breaks): negation never crosses one. */
  clause: number
}

export type NormalizedText = {
  /** The folded text: tokens joined by single spaces, clause breaks kept as " | ". */
  folded: string
  tokens: Token[]
}

// WhatsApp and chat shorthand, Spanish and English, expanded before anything is matched.
// A Map, not an object: a message saying "constructor" must not find Object.prototype's.
const SHORTHAND = new Map<string, string>(
  Object.entries({
    q: 'que',
    k: 'que',
    ke: 'que',
    xq: 'porque',
    xk: 'porque',
    pq: 'porque',
    porq: 'porque',
    x: 'por',
    xfa: 'por favor',
    porfa: 'por favor',
    porfis: 'por favor',
    plis: 'por favor',
    pf: 'por favor',
    tb: 'tambien',
    tmb: 'tambien',
    tbn: 'tambien',
    tbm: 'tambien',
    d: 'de',
    dl: 'del',
    msj: 'mensaje',
    mje: 'mensaje',
    info: 'informacion',
    dnd: 'donde',
    cdo: 'cuando',
    bn: 'bien',
    grax: 'gracias',
    grs: 'gracias',
    ud: 'usted',
    uds: 'ustedes',
    pa: 'para',
    kiero: 'quiero',
    kisiera: 'quisiera',
    aki: 'aqui',
    nd: 'nada',
    hrs: 'horas',
    hr: 'hora',
    tel: 'telefono',
    cel: 'celular',
    wsp: 'whatsapp',
    wa: 'whatsapp',
    u: 'you',
    ur: 'your',
    r: 'are',
    pls: 'please',
    plz: 'please',
    thx: 'thanks',
    thnx: 'thanks',
    ty: 'thank you',
    asap: 'as soon as possible',
    idk: 'i do not know',
    im: 'i am',
    ive: 'i have',
    dont: 'do not',
    doesnt: 'does not',
    didnt: 'did not',
    cant: 'can not',
    cannot: 'can not',
    wont: 'will not',
    isnt: 'is not',
    wasnt: 'was not',
    arent: 'are not',
    havent: 'have not',
    wouldnt: 'would not',
    shouldnt: 'should not',
  }),
)

const COMBINING_MARKS = /[\u0300-\u036f]/g
const APOSTROPHES = /['’‘`´]/g
const CLAUSE_BREAK = /[.,;:!?¿¡\n\r]+/
const WORDS = /[a-z0-9]+/g
// Three or more of the same letter ("holaaa", "nooo") collapse to one; pairs stay (ll, rr, ee).
const REPEATS = /([a-z])\1{2,}/g

/** Lower case, accents and ñ folded, apostrophes dropped ("don't" → "dont"). */
export function fold(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(COMBINING_MARKS, '').replace(APOSTROPHES, '')
}

// Spanish endings whose accent natural's stemmer needs to recognise the suffix; people often
// type them without it ("cotizacion", "demandare").
const REACCENT: [RegExp, string][] = [
  [/cion$/, 'ción'],
  [/sion$/, 'sión'],
  [/([aei])re$/, '$1ré'],
  [/([aei])ran$/, '$1rán'],
  [/([aei])ras$/, '$1rás'],
  [/([aei])ria$/, '$1ría'],
  [/([aei])rian$/, '$1rían'],
  [/logia$/, 'logía'],
]
const INFINITIVE = /(ar|er|ir)$/
const DIGITS = /^\d+$/

/** A word's stems in both languages, computed once per distinct word and kept. */
type Stems = { es: readonly string[]; en: string }
const stemCache = new Map<string, Stems>()
const CACHE_LIMIT = 50_000

/** The word's Spanish and English stems, from the cache (one lookup for both). */
function stemsOf(word: string): Stems {
  const cached = stemCache.get(word)
  if (cached) return cached
  if (stemCache.size >= CACHE_LIMIT) stemCache.clear()
  const stems = { es: computeSpanishStems(word), en: stemEn.stem(word) }
  stemCache.set(word, stems)
  return stems
}

/** Spanish stems of a folded word: natural's stem, and the stem of its re-accented form. */
export function spanishStems(word: string): readonly string[] {
  return stemsOf(word).es
}

function computeSpanishStems(word: string): readonly string[] {
  const stems = new Set<string>()
  const add = (stem: string) => {
    const folded = fold(stem)
    stems.add(folded)
    // The stemmer leaves a bare infinitive ending on some folded futures ("demandare" → "demandar").
    if (folded.length >= 6 && INFINITIVE.test(folded)) stems.add(folded.slice(0, -2))
  }
  const stem = stemEs.stem(word)
  add(stem)
  // The stemmer over-cuts some first-person forms ("demando" → "dem", as if a gerund):
  // keep the word without its last vowel too.
  if (stem.length < 4 && word.length >= 6 && /[aeo]$/.test(word)) stems.add(word.slice(0, -1))
  for (const [pattern, replacement] of REACCENT) {
    if (pattern.test(word)) {
      add(stemEs.stem(word.replace(pattern, replacement)))
      break
    }
  }
  return [...stems]
}

/**
 * Turns a message into comparable tokens. Pure and allocation-light: it runs on every
 * message, and the stems of words seen before come from a cache.
 */
export function normalizeText(text: string): NormalizedText {
  const tokens: Token[] = []
  const clauses = fold(text).split(CLAUSE_BREAK)
  const parts: string[] = []
  for (const segment of clauses) {
    const words = segment.replace(REPEATS, '$1').match(WORDS)
    if (!words) continue
    // Clauses are numbered as they appear in `folded`, so pattern hits and token hits agree.
    const clause = parts.length
    const clauseWords: string[] = []
    for (const raw of words) {
      const expanded = SHORTHAND.get(raw)
      for (const word of expanded ? expanded.split(' ') : [raw]) {
        clauseWords.push(word)
        // A number is its own stem; nearly every one is new, so it skips the caches too.
        const first = word.charCodeAt(0)
        const number = first >= 48 && first <= 57 && DIGITS.test(word)
        const stems = number ? null : stemsOf(word)
        tokens.push({ word, es: stems ? stems.es : [word], en: stems ? stems.en : word, clause })
      }
    }
    parts.push(clauseWords.join(' '))
  }
  return { folded: parts.join(' | '), tokens }
}
