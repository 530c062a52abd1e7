import type { Outcome } from '../service/kit.js'
import { statusOf } from '../service/kit.js'
import { type Lang, t, tf } from './i18n.js'
import { label } from './labels.js'

/** An admin operation refused what a console page asked: the page says why, with its status. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** What the operation gave, or a `Refused` for the console's page handler to show. */
export function take<T>(result: Outcome<T>): T {
  if ('body' in result) return result.body
  throw new Refused(statusOf(result), result.reason)
}

/**
 * A refusal of the admin service (its reasons are English, for the API) as the console's
 * reader reads it: the known ones in their language, the rest with a short lead-in.
 */
export function refusalText(lang: Lang, reason: string): string {
  const role = /for (\w+) or above, not (\w+)/.exec(reason)
  const level = /at (L[123])\b|to (L[123])\b/.exec(reason)
  if (role)
    return tf(lang, 'notAllowed', {
      role: t(lang, roleWord(role[2]!)),
      level: level?.[1] ?? level?.[2] ?? '—',
      owner: t(lang, roleWord(role[1]!)),
    })
  const already = /is already at (L[123])/.exec(reason)
  if (already) return tf(lang, 'alreadyAtLevel', { level: already[1]! })
  const move = /a ticket (\w+) cannot become (\w+)/.exec(reason)
  if (move)
    return lang === 'es'
      ? `Un caso ${label(lang, move[1])} no puede pasar a ${label(lang, move[2])}.`
      : `A case ${label(lang, move[1])} cannot become ${label(lang, move[2])}.`
  if (/not found/.test(reason)) return `${t(lang, 'notFound')}: ${reason}`
  return `${t(lang, 'couldNot')}: ${reason}`
}

const roleWord = (role: string) =>
  role === 'supervisor'
    ? 'role_supervisor'
    : role === 'gerencia'
      ? 'role_gerencia'
      : role === 'admin'
        ? 'role_admin'
        : 'role_agente'
