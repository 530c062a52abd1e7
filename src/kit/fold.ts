const COMBINING_MARKS = /[\u0300-\u036f]/g
const APOSTROPHES = /['’‘`´]/g

/** Lower case, accents and ñ folded, apostrophes dropped ("don't" → "dont"). */
export function fold(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(COMBINING_MARKS, '').replace(APOSTROPHES, '')
}
