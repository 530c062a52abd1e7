import stemEn from 'natural/lib/natural/stemmers/porter_stemmer.js'
import stemEs from 'natural/lib/natural/stemmers/porter_stemmer_es.js'
import { fold } from '../kit/fold.js'

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
  /** The word's entry in the stem cache, shared by every token of the word (see `wordMemo`). */
  lexeme: Lexeme
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

const CLAUSE_BREAK = /[.,;:!?¿¡\n\r]+/
const WORDS = /[a-z0-9]+/g
// Three or more of the same letter ("holaaa", "nooo") collapse to one; pairs stay (ll, rr, ee).
const REPEATS = /([a-z])\1{2,}/g

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

/**
 * A distinct word: its stems in both languages, computed once and kept, and what other modules
 * derived from the word (`wordMemo`).
 */
export type Lexeme = { es: readonly string[]; en: string; memo: unknown[] }
const stemCache = new Map<string, Lexeme>()
// Each word keeps its memo (about 600 bytes with what triage derives from it): 20,000 words
// hold the vocabulary of a support inbox and stay under 15 MB when every one is new.
const CACHE_LIMIT = 20_000
/** Slots taken in every lexeme's memo: two per `wordMemo` (owner, value). */
let memoSlots = 0

/** The word's Spanish and English stems, from the cache (one lookup for both). */
function stemsOf(word: string): Lexeme {
  const cached = stemCache.get(word)
  if (cached) return cached
  if (stemCache.size >= CACHE_LIMIT) stemCache.clear()
  const stems = {
    es: computeSpanishStems(word),
    en: stemEn.stem(word),
    memo: new Array<unknown>(memoSlots).fill(undefined),
  }
  stemCache.set(word, stems)
  return stems
}

/**
 * Drops what every word kept for earlier owners. A new owner (a rulebook or model just built)
 * calls it, so that words not seen since do not hold on to the one it replaces: a memo slot
 * keeps its owner until the word is seen again.
 */
export function forgetWordMemos(): void {
  for (const lexeme of stemCache.values()) lexeme.memo.fill(undefined)
}

/**
 * A fact derived from a word alone, and from an owner (a rulebook's term index, a classifier's
 * vocabulary, or a module's own table), kept with the word's stems: the first token of a word
 * computes it, every later one reads a field. Triage looks each word of a message up in a dozen
 * tables; this turns those hash lookups into one (the stem cache's), with the word's facts
 * next to each other in memory. `compute` must read only the token's word and stems, never its
 * clause or neighbours. A new owner (a reloaded rulebook) computes afresh.
 */
export function wordMemo<Owner extends object, Value>(
  compute: (token: Token, owner: Owner) => Value,
): (token: Token, owner: Owner) => Value {
  const at = memoSlots
  memoSlots += 2
  return (token, owner) => {
    const memo = token.lexeme.memo
    if (memo[at] === owner) return memo[at + 1] as Value
    const value = compute(token, owner)
    memo[at] = owner
    memo[at + 1] = value
    return value
  }
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
        const lexeme = number ? { es: [word], en: word, memo: [] } : stemsOf(word)
        tokens.push({ word, es: lexeme.es, en: lexeme.en, clause, lexeme })
      }
    }
    parts.push(clauseWords.join(' '))
  }
  return { folded: parts.join(' | '), tokens }
}
