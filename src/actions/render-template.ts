/**
 * Fills a reply template: `{{name}}` is replaced by the variable, and `{{#name}}…{{/name}}`
 * keeps its inside only when the variable has a value. Unknown variables render empty.
 */
export function renderTemplate(
  template: string,
  vars: Readonly<Record<string, string | null | undefined>>,
): string {
  const withSections = template.replace(
    /\{\{#([a-z_]+)\}\}([\s\S]*?)\{\{\/\1\}\}/g,
    (_all, name: string, inner: string) => (vars[name] ? inner : ''),
  )
  return withSections.replace(/\{\{([a-z_]+)\}\}/g, (_all, name: string) => vars[name] ?? '')
}

const UNITS = {
  es: { minute: ['minuto', 'minutos'], hour: ['hora', 'horas'], day: ['día', 'días'] },
  en: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'], day: ['day', 'days'] },
} as const

/** "15 minutos", "4 horas", "2 days": how a customer reads a response time. */
export function humanDuration(ms: number, language: 'es' | 'en'): string {
  const units = UNITS[language]
  const pick = (n: number, [one, many]: readonly [string, string]) => `${n} ${n === 1 ? one : many}`
  const minutes = Math.round(ms / 60_000)
  if (minutes < 60) return pick(Math.max(1, minutes), units.minute)
  const hours = Math.round(minutes / 60)
  if (hours < 48 || hours % 24 !== 0) return pick(hours, units.hour)
  return pick(hours / 24, units.day)
}

/** The first word of a display name, unless it is a generated id ("V1561719148780935"). */
export function firstName(name: string | null | undefined): string | null {
  if (!name) return null
  const first = name.trim().split(/\s+/)[0] ?? ''
  if (first.length < 2 || /\d/.test(first) || first.includes('@')) return null
  return first
}
