/**
 * format=flowed (RFC 3676, https://www.rfc-editor.org/rfc/rfc3676): a line ending in a space
 * goes on in the next line. Mail clients that send it (Thunderbird, Apple Mail, mutt) also mark
 * quotes with it, so unwrapping must respect quote depth: a flowed line joins the next one only
 * when both are quoted as deeply (§4.5). "> Hola " above "Sí, gracias" are two paragraphs, one
 * quoted and one new; joined, the customer's new words would be read as the quote.
 */

/** The Content-Type parameter that marks a text part as flowed, as it appears in headers. */
const FLOWED_PARAM = /format\s*=\s*"?flowed"?/gi
const DELSP_YES = /delsp\s*=\s*"?yes"?/i
/** A Content-Type header with its folded continuation lines (header lines only). */
const CONTENT_TYPE_HEADER = /^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/gim

export type FlowedParts = { flowed: boolean; delSp: boolean }

/**
 * Rewrites `format=flowed` in the message's Content-Type headers to `format=fixed`, so the
 * MIME parser hands over the lines as sent and `unflow` joins them with their quote depth in
 * mind. Says whether any part was flowed, and with DelSp. The bytes are read as latin1, so
 * everything but those headers is kept byte for byte.
 */
export function keepFlowedLines(raw: Buffer): { raw: Buffer } & FlowedParts {
  if (raw.indexOf('flowed') < 0 && raw.indexOf('FLOWED') < 0 && raw.indexOf('Flowed') < 0)
    return { raw, flowed: false, delSp: false }
  let flowed = false
  let delSp = false
  const text = raw.toString('latin1').replace(CONTENT_TYPE_HEADER, (header) => {
    if (!/text\/plain/i.test(header) || !FLOWED_PARAM.test(header)) return header
    flowed = true
    delSp ||= DELSP_YES.test(header)
    FLOWED_PARAM.lastIndex = 0
    return header.replace(FLOWED_PARAM, 'format=fixed')
  })
  FLOWED_PARAM.lastIndex = 0
  return flowed ? { raw: Buffer.from(text, 'latin1'), flowed, delSp } : { raw, flowed, delSp }
}

/** Joins the soft line breaks of a format=flowed text, paragraph by paragraph, per quote depth. */
export function unflow(text: string, delSp: boolean): string {
  const out: string[] = []
  let paragraph: string | null = null
  let depth = 0
  const flush = () => {
    if (paragraph === null) return
    const quote = '>'.repeat(depth)
    out.push(depth === 0 ? paragraph : paragraph ? `${quote} ${paragraph}` : quote)
    paragraph = null
  }
  for (const raw of text.split(/\r?\n/)) {
    let quotes = 0
    while (quotes < raw.length && raw[quotes] === '>') quotes++
    let line = raw.slice(quotes)
    // Space-stuffing (§4.4): a space the sender added after the quote marks, or before a
    // line starting with a space, ">" or "From ".
    if (line.startsWith(' ')) line = line.slice(1)
    // A flowed paragraph that meets another quote depth ends there (§4.5), as it does at a
    // signature separator, which is always a line of its own (§4.3).
    if (paragraph !== null && (quotes !== depth || line === '-- ')) flush()
    depth = quotes
    const soft = line.endsWith(' ') && line !== '-- '
    const piece = soft && delSp ? line.slice(0, -1) : line
    paragraph = paragraph === null ? piece : paragraph + piece
    if (!soft) flush()
  }
  flush()
  return out.join('\n')
}
