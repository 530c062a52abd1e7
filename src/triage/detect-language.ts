import { type Token, wordMemo } from './normalize-text.js'

// Frequent function words (folded). Words both languages share ("no", "a") are left out.
const SPANISH = new Set(
  'de la que el en y los se del las un por con una su al lo como mas pero sus le ya o este si porque esta entre cuando muy sin sobre tambien me hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mi antes algunos que unos yo otro otras otra el tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros mis tu te ti tus ellas nosotras vosotros os mio mia tuyo suyo nuestro hola gracias quiero tengo necesito quisiera favor buenas buenos dias tardes noches estoy puedo hacer saber cuanto cuando donde porque usted ustedes señor vez ahora aqui ayer hoy manana semana mes pedido precio'.split(
    ' ',
  ),
)
const ENGLISH = new Set(
  'the and to of in is it you that for on my with have this be are was not your at from or an they we can will would just so if about what there their when which do does did has had been get got me our us how why where who please thanks thank hello hi want need could should i am im ive dont cant wont yes hey order price today yesterday tomorrow week month'.split(
    ' ',
  ),
)

/** Whether a word is a Spanish or English function word: 1 for Spanish, 2 for English, 3 both. */
const functionWord = wordMemo(
  (token: Token, spanish: ReadonlySet<string>) =>
    (spanish.has(token.word) ? 1 : 0) | (ENGLISH.has(token.word) ? 2 : 0),
)

export type LanguageGuess = { language: 'es' | 'en'; es: number; en: number }

/**
 * Spanish or English, from function words and Spanish-only characters. Ties go to `fallback`
 * (Spanish by default: the hub answers in Spanish first).
 */
export function detectLanguage(
  tokens: readonly Token[],
  original: string,
  fallback: 'es' | 'en' = 'es',
): LanguageGuess {
  let es = 0
  let en = 0
  for (const token of tokens) {
    const kind = functionWord(token, SPANISH)
    es += kind & 1
    en += kind >> 1
  }
  if (/[ñ¿¡áéíóú]/i.test(original)) es += 2
  const language = es > en ? 'es' : en > es ? 'en' : fallback
  return { language, es, en }
}
