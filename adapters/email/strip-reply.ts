/**
 * Splits an email body into what the sender wrote now and what it quotes or signs off with,
 * so only the new part is triaged. Handles top-posted replies (cut at the quote header),
 * bottom-posted and inline replies (">" lines dropped, the sender's lines kept), Outlook and
 * Gmail header blocks, "Original message" and forward separators, the "-- " signature
 * delimiter and mobile footers ("Enviado desde mi iPhone"), in Spanish, English and the other
 * languages mail clients write headers in.
 *
 * Every expression here is linear (no nested quantifiers) and runs on single lines (or at
 * most three joined lines), so a hostile body cannot make it slow.
 */
export type StrippedReply = {
  /** The new text. */
  reply: string
  /** The quoted part (from the first quote header, and every ">" line). */
  quoted: string
  /** A trailing signature or mobile footer, when one was recognised (with the sign-off). */
  signature: string
  /**
   * The closing the sender signed with ("Saludos,\nAna"), apart from the text: triage reads
   * without it; an answer relayed to a customer keeps it.
   */
  signOff: string
}

// "On <date>, <name> wrote:" and its translations; the header may wrap over up to 3 lines.
// Dutch, German and Nordic clients put the name after the verb ("schreef X <x@y>:").
const WROTE_END =
  /(wrote|escribió|escribio|escreveu|va escriure|ha escrit|a écrit|a ecrit|schrieb|ha scritto|schreef|skrev|napisał\(a\)|napisał|napisała|kirjoitti|написал\(а\)|написал|написала|napsal|yazdı)(\s[^:]{0,160})?:?\s*$/i
const HEADER_START =
  /^\s*(on|el|em|le|am|il|op|den|w dniu|dnia|dne|в|el día|el dia|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2} \w+ \d{4})\b/i
// Outlook: a "From:" line followed by "Sent:"/"Date:"/"To:"/"Subject:" lines.
const FROM_LINE = /^[\s*>]*(from|de|von|da|fra|van|od|от|lähettäjä|från|feladó|kimden)[\s:*]*\S/i
const HEADER_FIELD =
  /^\s*[*]*\s*(sent|enviado|enviado el|enviado em|gesendet|inviato|envoyé|envoyé le|enviat|date|fecha|datum|data|to|para|per a|an|à|a|aan|verzonden|subject|asunto|assunto|assumpte|tema|betreff|objet|oggetto|onderwerp|emne|temat|aihe|тема|cc|enviada|enviada em|sendt|skickat|till|til|lähetetty|vastaanottaja|kopio|отправлено|кому)\s*:?\**\s*:/i
const SEPARATOR =
  /^\s*(-{2,}|_{2,}|={2,})?\s*(original message|mensaje original|message d'origine|oprindelig besked|original besked|ursprüngliche nachricht|messaggio originale|mensagem original|oprindelig meddelelse|opprinnelig melding|ursprungligt meddelande|oorspronkelijk bericht|wiadomość oryginalna|alkuperäinen viesti|forwarded message|mensaje reenviado|message transféré|weitergeleitete nachricht|messaggio inoltrato|mensagem encaminhada)\s*(-{2,}|_{2,}|={2,})?\s*$/i
// "30.09.2017, 18.30, "John" <j@x.com>:" — a date and an address, then a colon.
const DATED_ADDRESS_HEADER = /\d.{0,120}(<[^<>\s]{1,120}@[^<>\s]{1,120}>|\S@\S{1,120})\s*:\s*$/
const FORWARD_START =
  /^\s*(begin forwarded message|inicio del mensaje reenviado|comienzo del mensaje reenviado)\s*:\s*$|^\s*message du\s*:/i
const RULE = /^\s*(_{10,}|-{10,}|={10,})\s*$/
// A lone "De: Nombre <correo>" line: a forwarded or pasted message starts there.
const LONE_FROM =
  /^[\s*>]*(from|de|von|da|fra|van)\s*:\s*[^<>:@\n]{0,80}<[^<>\s@]{1,120}@[^<>\s]{1,120}>\s*$/i
const SIGNATURE_DELIMITER = /^(--|__)\s*$/
// "Regards," / "Saludos," alone on a line, followed by a few short lines to the end.
const SIGN_OFF =
  /^\s*((best|kind|warm|many)\s+)?(regards|cheers|thanks|thank you|saludos|saludos cordiales|atentamente|cordialmente|un saludo|un abrazo|muchas gracias|gracias)\s*[,.!]?\s*$/i
const MOBILE_FOOTER =
  /^\s*(sent from|sent with|sent via|enviado desde|enviado con|enviado a través de|envoyé de|envoyé à partir de|envoyé depuis|gesendet von|inviato da|enviado do|get outlook for|obtener outlook para|descargar outlook para)\b/i

/** Every pattern above, for the ReDoS check in the reliability suite. */
export const REPLY_PATTERNS = {
  WROTE_END,
  HEADER_START,
  FROM_LINE,
  HEADER_FIELD,
  SEPARATOR,
  DATED_ADDRESS_HEADER,
  FORWARD_START,
  RULE,
  LONE_FROM,
  SIGNATURE_DELIMITER,
  SIGN_OFF,
  MOBILE_FOOTER,
}
/** Characters of a line the patterns look at: no header, separator or footer is longer. */
export const LINE_LIMIT = 300

const isQuoted = (line: string) => /^\s*>/.test(line)
const isBlank = (line: string) => line.trim() === ''

/** A quote header starting at `i` ("On … wrote:" over up to three lines): its length, or 0. */
function quoteHeaderAt(lines: readonly string[], i: number): number {
  // Some clients frame the header with dashes ("---- On … wrote ----").
  const first = lines[i]!.replace(/^[\s-]+|[\s-]+$/g, '')
  if (isQuoted(lines[i]!) || first.length === 0 || first.length > 400) return 0
  const opener = HEADER_START.test(first)
  // Only a line that opens like a header, or carries a date or an address, may wrap.
  if (!opener && !/@|\d/.test(first)) return 0
  let joined = first
  for (let span = 1; span <= 3 && i + span <= lines.length; span++) {
    if (span > 1) {
      // A header wraps onto the next line, never across a blank line or after a full stop:
      // "El producto llegó roto." above "El mié, … escribió:" is the sender's sentence.
      const next = lines[i + span - 1]!
      if (isBlank(next) || /[.!?]\s*$/.test(lines[i + span - 2]!)) return 0
      joined += ` ${next.replace(/^[\s>]+/, '').trim()}`
    }
    if (joined.length > 500) return 0
    if (WROTE_END.test(joined) && (opener || /@|\d/.test(joined))) return span
    if (DATED_ADDRESS_HEADER.test(joined)) return span
  }
  return 0
}

/** An Outlook-style block of header fields starting at `i`. */
function headerBlockAt(lines: readonly string[], i: number): boolean {
  if (!FROM_LINE.test(lines[i]!)) return false
  let fields = 0
  for (let j = i + 1; j < lines.length && j <= i + 6; j++) {
    const line = lines[j]!
    if (isBlank(line)) continue
    if (HEADER_FIELD.test(line)) fields++
    // A long sender address wrapped onto its own line.
    else if (fields === 0 && j === i + 1 && /^\s*<?[^\s<>]+@[^\s<>]+>?\s*$/.test(line)) continue
    else break
  }
  return fields >= 1
}

/**
 * Whether, after `from`, the sender writes new paragraphs below quoted (">") lines. A line
 * straight after a quoted one is the quote's own text wrapped by the client, not a reply.
 */
function writesBelowQuotes(lines: readonly string[], from: number): boolean {
  let seenQuote = false
  for (let j = from; j < lines.length; j++) {
    const line = lines[j]!
    if (isQuoted(line)) seenQuote = true
    else if (SIGNATURE_DELIMITER.test(line)) return false
    else if (seenQuote && !isBlank(line) && isBlank(lines[j - 1] ?? '')) return true
  }
  return false
}

/** A short mobile footer ("Enviado desde mi iPhone"); a long sentence is the sender's text. */
function isMobileFooter(line: string): boolean {
  return MOBILE_FOOTER.test(line) && line.trim().split(/\s+/).length <= 8
}

function boundaryAt(lines: readonly string[], i: number): 'header' | 'cut' | null {
  const line = lines[i]!
  if (SEPARATOR.test(line) || FORWARD_START.test(line)) return 'cut'
  if (RULE.test(line)) {
    for (let j = i + 1; j < lines.length && j <= i + 3; j++)
      if (headerBlockAt(lines, j)) return 'cut'
    return null
  }
  if (headerBlockAt(lines, i) || LONE_FROM.test(line)) return 'cut'
  return quoteHeaderAt(lines, i) > 0 ? 'header' : null
}

const trimBlankEnds = (lines: string[]) => {
  let start = 0
  let end = lines.length
  while (start < end && isBlank(lines[start]!)) start++
  while (end > start && isBlank(lines[end - 1]!)) end--
  return lines.slice(start, end)
}

/** Where a closing sign-off starts: a "Regards," line followed by one to four short lines. */
function findSignOff(reply: readonly string[]): number {
  for (let i = Math.max(1, reply.length - 6); i < reply.length; i++) {
    if (!SIGN_OFF.test(reply[i]!)) continue
    const after = reply.slice(i + 1).filter((l) => !isBlank(l))
    // A bare "Thanks!" closing the message is content; followed by a name, it signs off.
    if (after.length >= 1 && after.length <= 4 && after.every((l) => l.trim().length <= 60))
      return i
  }
  return -1
}

/** Characters of a body that are read for the new part; past this it is all quote. */
const BODY_LIMIT = 100_000
export function stripReply(body: string): StrippedReply {
  const rest = body.length > BODY_LIMIT ? body.slice(BODY_LIMIT) : ''
  const text = body.length > BODY_LIMIT ? body.slice(0, BODY_LIMIT) : body
  const full = text.replace(/\r\n?/g, '\n').split('\n')
  // The patterns see lines cut to LINE_LIMIT, so a hostile line (200,000 spaces and an "x")
  // costs what a short one does; the text kept and quoted is the original.
  const lines = full.map((l) => (l.length > LINE_LIMIT ? l.slice(0, LINE_LIMIT) : l))
  const kept: string[] = []
  const quoted: string[] = []
  let signatureAt = -1
  let i = 0
  for (; i < lines.length; i++) {
    const line = lines[i]!
    const boundary = boundaryAt(lines, i)
    if (boundary === 'cut') break
    if (boundary === 'header') {
      const hasContent = kept.some((l) => !isBlank(l))
      const span = quoteHeaderAt(lines, i)
      // A bottom-posted or inline reply: the sender writes below or between the quotes.
      if (hasContent && !writesBelowQuotes(lines, i + span)) break
      quoted.push(...full.slice(i, i + span))
      i += span - 1
      continue
    }
    if (isQuoted(line)) {
      quoted.push(full[i]!)
      continue
    }
    if (SIGNATURE_DELIMITER.test(line) || (isMobileFooter(line) && kept.some((l) => !isBlank(l)))) {
      signatureAt = kept.length
      break
    }
    kept.push(full[i]!)
  }
  quoted.push(...full.slice(signatureAt >= 0 ? full.length : i))
  if (rest) quoted.push(rest)
  let reply = trimBlankEnds(kept.map((l) => l.trimEnd()))
  let signature = signatureAt >= 0 ? trimBlankEnds(full.slice(i)).join('\n') : ''
  // A separator line left just above a cut ("====") belongs to what was cut.
  while (reply.length > 0 && /^[\s=\-_*~]+$/.test(reply.at(-1)!))
    reply = trimBlankEnds(reply.slice(0, -1))
  // "Regards,\n\nAna" at the very end is a sign-off, not content.
  const signOffAt = findSignOff(reply.map((l) => l.slice(0, LINE_LIMIT)))
  let signOff = ''
  if (signOffAt >= 0) {
    signOff = trimBlankEnds(reply.slice(signOffAt)).join('\n')
    signature = [signOff, signature].filter(Boolean).join('\n')
    reply = trimBlankEnds(reply.slice(0, signOffAt))
  }
  return { reply: reply.join('\n'), quoted: quoted.join('\n').trim(), signature, signOff }
}
