/** HTML that is already safe to insert (built by `html` or deliberately raw). */
export class Safe {
  constructor(readonly value: string) {}
  toString() {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

type Part = Safe | string | number | null | undefined | false | readonly Part[]

const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof Safe) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

/** A template whose interpolations are escaped unless they are `Safe` (nested `html`). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Safe {
  let out = strings[0]!
  parts.forEach((part, i) => {
    out += render(part) + strings[i + 1]!
  })
  return new Safe(out)
}

export const raw = (value: string) => new Safe(value)

/** Horizontal bars as inline SVG: a chart with no script and no external file. */
export function barChart(rows: readonly { label: string; value: number }[], unit = ''): Safe {
  if (rows.length === 0) return html`<p class="muted">—</p>`
  const max = Math.max(...rows.map((r) => r.value), 1)
  const height = rows.length * 26
  return html`<svg class="chart" viewBox="0 0 400 ${height}" role="img" preserveAspectRatio="xMinYMin meet">
    ${rows.map(
      (r, i) => html`<g transform="translate(0 ${i * 26})">
        <text x="0" y="16" class="label">${r.label}</text>
        <rect x="140" y="4" height="16" width="${Math.max(1, Math.round((r.value / max) * 200))}" rx="2"></rect>
        <text x="${148 + Math.round((r.value / max) * 200)}" y="16">${r.value}${unit}</text>
      </g>`,
    )}
  </svg>`
}
