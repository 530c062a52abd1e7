import type { Hit } from './match-terms.js'
import type { Token } from './normalize-text.js'
import { STOPWORDS } from './stopwords.js'

// Words of the first and second person (folded): "me", "mi", "nos", "you", "your"…
const PERSONAL = new Set(
  'yo me mi mis conmigo nos nosotros nosotras nuestro nuestra nuestros nuestras tu tus te ti contigo usted ustedes su sus les le lo los la las vos i me my mine we us our ours you your yours'.split(
    ' ',
  ),
)

/** Whether the message speaks of its writer or its addressee (a first or second person). */
export function personal(tokens: readonly Token[]): boolean {
  for (const token of tokens) if (PERSONAL.has(token.word)) return true
  return false
}

/**
 * A greeting or a closing ("gracias", "ok", 👍) with nothing else in it: every word is one
 * the rulebook's acts cover, or a function word. A closing wins over a greeting ("hola,
 * gracias"). A message without words is judged by its emoji.
 */
export function smallTalk(
  hits: readonly Hit[],
  tokens: readonly Token[],
  text: string,
  /** The first token the author wrote (the addressees before it do not count). */
  from: number,
): 'greeting' | 'closing' | null {
  if (tokens.length === from) {
    if (ACK_EMOJI.test(text)) return 'closing'
    return GREETING_EMOJI.test(text) ? 'greeting' : null
  }
  const covered = new Uint8Array(tokens.length)
  let greeting = false
  let closing = false
  for (const hit of hits) {
    if (hit.group !== 'act' || hit.vetoed || hit.position < 0) continue
    if (hit.target !== 'greeting' && hit.target !== 'closing') continue
    if (hit.target === 'greeting') greeting = true
    else closing = true
    const words = hit.matched.split(' ').length
    for (let k = 0; k < words && hit.position + k < tokens.length; k++)
      covered[hit.position + k] = 1
  }
  if (!greeting && !closing) return null
  for (let i = from; i < tokens.length; i++) {
    if (!covered[i] && !FILLERS.has(tokens[i]!.word)) return null
  }
  return closing ? 'closing' : 'greeting'
}

// Function words and forms of address that may come with a greeting or a thank-you.
const FILLERS = new Set([
  ...STOPWORDS,
  ...'todos todas amigo amiga amigos equipo senor senora senorita joven jaja jajaja jeje jejeje ah oh eh uh nuevamente otra vez again team guys all everyone folks sir madam dear lot much so very really'.split(
    ' ',
  ),
])
// 👍 👌 🙏 🙌 👏 ✅ ☺ 🙂 😊 😀 😁 😃 ❤ 💙 💚 🤝 💯 — an acknowledgement without words.
const ACK_EMOJI =
  /[\u{1F44D}\u{1F44C}\u{1F64F}\u{1F64C}\u{1F44F}\u{2705}\u{263A}\u{1F642}\u{1F60A}\u{1F600}\u{1F601}\u{1F603}\u{2764}\u{1F499}\u{1F49A}\u{1F91D}\u{1F4AF}]/u
// 👋 — a wave.
const GREETING_EMOJI = /\u{1F44B}/u

/**
 * Which languages' rule terms to try: both, unless the message is plainly one language (two
 * or more function words of it and none of the other).
 */
export function termLanguages(guess: { es: number; en: number }): ('es' | 'en')[] {
  // Plainly one language: two or more of its function words and at most a third as many of
  // the other's (a few words look alike: "me", "a"). "Solicito reembolso" is not an English
  // solicitor.
  if (guess.en >= 2 && guess.es * 3 <= guess.en) return ['en']
  if (guess.es >= 2 && guess.en * 3 <= guess.es) return ['es']
  return ['es', 'en']
}

const QUESTION_START = new Set(
  'que cual cuales cuanto cuanta cuantos cuantas como donde cuando quien hay tienen tiene aceptan acepta puedo puede pueden se hacen venden lavan atienden abren es son estan incluye what which how where when who do does can could is are will would should may'.split(
    ' ',
  ),
)

const OPENERS = new Set(
  'hola hi hello buenas buenos buen dia dias tardes noches hey oye consulta una pregunta good morning afternoon evening'.split(
    ' ',
  ),
)
// "Quisiera saber…", "¿me podrían decir…", "I'd like to know…": a question asked as a request.
const INDIRECT_QUESTION =
  /^(quiero|quisiera|queria|necesito|necesitaria|deseo|deseaba|me gustaria|podrian|pueden|puede|podria|me podrian|me pueden|me puede|me podria|me dicen|me dice|me informan|me indican|i want to|i would like to|i d like to|i need to|can you|could you|please|i am|i was)( \w+)? (saber|consultar|preguntar|conocer|decir|indicar|informar|informacion|know|ask|tell|wondering|find out)\b/

/**
 * An FAQ answer goes only to a question: a "?", a first word that opens one, or a request to
 * know ("quisiera saber el horario"). "The express wash took over an hour" shares words with
 * an FAQ but is a complaint, not a question.
 */
export function isQuestion(text: string, tokens: readonly Token[]): boolean {
  if (/[?¿]/.test(text)) return true
  let start = 0
  while (start < tokens.length && OPENERS.has(tokens[start]!.word)) start++
  const first = tokens[start]
  if (first === undefined) return false
  if (QUESTION_START.has(first.word)) return true
  const opening = tokens
    .slice(start, start + 5)
    .map((t) => t.word)
    .join(' ')
  return INDIRECT_QUESTION.test(opening)
}

export function angry(words: readonly string[]): string | null {
  return words.length > 0 ? `strongly negative words (${words.slice(0, 3).join(', ')})` : null
}
