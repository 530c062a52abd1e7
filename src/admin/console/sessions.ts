import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from '../../store/sql.js'
import { actorName, type Person, type Role, TOKEN_PERSON } from '../people.js'

/** How long a console sign-in lasts. */
export const SESSION_MS = 12 * 3_600_000

const idOf = (token: string) => createHash('sha256').update(token).digest('hex')

/**
 * Console sessions, kept in the database: the cookie holds a random value and the database
 * its hash, so each sign-in is its own session, expires on its own, and ends when its person
 * signs out.
 */
export function consoleSessionStore(db: Sql) {
  return {
    /** Starts a session for `who`; the value to put in the cookie. */
    async start(who: Person, now: number): Promise<string> {
      const token = randomBytes(32).toString('base64url')
      await db.run(
        'insert into console_sessions (id, actor, user_id, created_at, expires_at) values (?, ?, ?, ?, ?)',
        [idOf(token), actorName(who), who.id, now, now + SESSION_MS],
      )
      return token
    },
    /** Who the cookie's session belongs to, while it lasts (with their role as it is now). */
    async person(token: string, now: number): Promise<Person | null> {
      const row = await db.get<{
        actor: string
        id: number | null
        name: string | null
        email: string | null
        role: Role | null
      }>(
        `select s.actor, u.id, u.name, u.email, u.role from console_sessions s
           left join console_users u on u.id = s.user_id
          where s.id = ? and s.expires_at > ?`,
        [idOf(token), now],
      )
      if (!row) return null
      if (row.id === null || row.id === undefined) return TOKEN_PERSON
      return { id: Number(row.id), name: row.name!, email: row.email, role: row.role! }
    },
    async end(token: string): Promise<void> {
      await db.run('delete from console_sessions where id = ?', [idOf(token)])
    },
  }
}
export type ConsoleSessionStore = ReturnType<typeof consoleSessionStore>

/**
 * Sign-in attempts per address: after `limit` failures within `windowMs`, further attempts
 * are refused until the window has passed. A success clears the address's count.
 */
export function loginThrottle(limit = 5, windowMs = 15 * 60_000) {
  const failures = new Map<string, { count: number; since: number }>()
  return {
    /** Seconds to wait before trying again, or 0. */
    wait(address: string, now: number): number {
      const entry = failures.get(address)
      if (!entry) return 0
      if (now - entry.since >= windowMs) {
        failures.delete(address)
        return 0
      }
      return entry.count >= limit ? Math.ceil((entry.since + windowMs - now) / 1000) : 0
    },
    failed(address: string, now: number): void {
      const entry = failures.get(address)
      if (!entry || now - entry.since >= windowMs) failures.set(address, { count: 1, since: now })
      else entry.count++
      // A flood of addresses cannot grow this without bound.
      if (failures.size > 10_000) failures.delete(failures.keys().next().value!)
    },
    succeeded(address: string): void {
      failures.delete(address)
    },
  }
}
