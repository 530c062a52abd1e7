/** Facts pulled out of a message: money, contact details and references. */
export type Entities = {
  /** Every money amount mentioned, in the order found. */
  amounts: { value: number; currency: string | null; text: string }[]
  emails: string[]
  phones: string[]
  /** Ticket, order or invoice references ("TK-2026-000123", "pedido #4521"). */
  references: string[]
}

const CURRENCY_BEFORE = String.raw`(US\$|USD|U\$S|CLP|MXN|ARS|COP|PEN|EUR|€|S\/|\$)`
const NUMBER = String.raw`(\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)`
const CURRENCY_AFTER = String.raw`(USD|US\$|d[oó]lares|dollars|bucks|pesos|CLP|MXN|euros?|EUR|€|soles|lucas)`
const MONEY = new RegExp(
  String.raw`(?<![\w.,])(?:${CURRENCY_BEFORE}\s?)?${NUMBER}(?:\s?(mil|k)\b)?(?:\s?${CURRENCY_AFTER}(?![a-z]))?`,
  'giu',
)
// Words that make a bare number a sum of money ("me cobraron 1.200 de más").
const MONEY_CONTEXT =
  /\b(cobr\w*|pag\w*|precio|monto|reembolso|devoluci[oó]n|devuelvan|dinero|plata|cargo|saldo|deuda|factura\w*|boleta|charged?|paid|pay\w*|refund\w*|cost\w*|price|amount|money|owe\w*|fee)\b/i

const EMAIL = /(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g
const PHONE = /(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{1,4}\)?[\s.-]?)?\d{3,4}[\s.-]?\d{4}(?![\w])/g
const TICKET_NUMBER = /\bTK-\d{4}-\d{4,}\b/gi
const REFERENCE =
  /\b(?:pedido|orden|order|ticket|factura|invoice|boleta|folio|ref(?:erencia)?)\s*(?:n[°ºo.]?\s*|#\s*|number\s*|numero\s*|número\s*)?(?!TK-)[A-Z]{0,4}-?\d{3,}\b/gi

/** Every pattern above, for the ReDoS check in the reliability suite. */
export const ENTITY_PATTERNS = { MONEY, MONEY_CONTEXT, EMAIL, PHONE, TICKET_NUMBER, REFERENCE }

/**
 * Reads a written number: "1.200" and "1,200" are twelve hundred, "1.200,50" and "1,200.50"
 * the same with cents, "12,5" twelve and a half.
 */
export function parseNumber(raw: string): number {
  const text = raw.replace(/\s/g, '')
  const lastDot = text.lastIndexOf('.')
  const lastComma = text.lastIndexOf(',')
  if (lastDot >= 0 && lastComma >= 0) {
    const decimal = lastDot > lastComma ? '.' : ','
    const thousands = decimal === '.' ? ',' : '.'
    return Number(text.split(thousands).join('').replace(decimal, '.'))
  }
  const separator = lastDot >= 0 ? '.' : lastComma >= 0 ? ',' : null
  if (!separator) return Number(text)
  const parts = text.split(separator)
  const last = parts[parts.length - 1] ?? ''
  if (parts.length > 2 || last.length === 3) return Number(parts.join(''))
  return Number(parts.join('.'))
}

/** The money amounts of a message (what the triage needs on every message: kept cheap). */
export function extractAmounts(text: string): Entities['amounts'] {
  if (!/\d/.test(text)) return []
  const amounts: Entities['amounts'] = []
  let references: string | null = null
  for (const match of text.matchAll(MONEY)) {
    const [whole, before, number, multiplier, after] = match
    if (!number) continue
    const currency = before ?? after ?? null
    const start = match.index ?? 0
    const end = start + whole.length
    // A bare number is money only beside money words, and never part of a reference or a time.
    if (!currency) {
      const around = text.slice(Math.max(0, start - 40), Math.min(text.length, end + 25))
      if (!MONEY_CONTEXT.test(around)) continue
      references ??= referencesIn(text).join(' ')
      if (
        references.includes(number) ||
        /^\s*(%|hrs?\b|horas?\b|:|h\b|am\b|pm\b|min)/i.test(text.slice(end))
      ) {
        continue
      }
      if (/\d{7,}/.test(number.replace(/[.,\s]/g, '')) && !/[.,]/.test(number)) continue
    }
    let value = parseNumber(number)
    // "800 mil", "5k" and Chilean "500 lucas" are thousands.
    if (multiplier || after?.toLowerCase() === 'lucas') value *= 1000
    if (!Number.isFinite(value) || value <= 0) continue
    amounts.push({
      value,
      currency: currency ? normalizeCurrency(currency) : null,
      text: whole.trim(),
    })
  }
  return amounts
}

function referencesIn(text: string): string[] {
  return [...new Set([...(text.match(TICKET_NUMBER) ?? []), ...(text.match(REFERENCE) ?? [])])]
}

export function extractEntities(text: string): Entities {
  const amounts = extractAmounts(text)
  return {
    amounts,
    emails: [...new Set(text.match(EMAIL) ?? [])],
    phones: [...new Set((text.replace(EMAIL, ' ').match(PHONE) ?? []).map((p) => p.trim()))].filter(
      (p) => p.replace(/\D/g, '').length >= 8 && !amounts.some((a) => a.text.includes(p)),
    ),
    references: referencesIn(text),
  }
}

function normalizeCurrency(raw: string): string {
  const value = raw.toLowerCase()
  if (value === '$') return '$'
  if (/us\$|usd|u\$s|dolares|dólares|dollars|bucks/.test(value)) return 'USD'
  if (/eur|€/.test(value)) return 'EUR'
  if (/clp|lucas/.test(value)) return 'CLP'
  if (value === 'pesos') return 'pesos'
  if (value === 'soles' || value === 's/') return 'PEN'
  return raw.toUpperCase()
}

/** The largest amount mentioned, or null. */
export function largestAmount(entities: Pick<Entities, 'amounts'>): number | null {
  let best: number | null = null
  for (const amount of entities.amounts)
    if (best === null || amount.value > best) best = amount.value
  return best
}
