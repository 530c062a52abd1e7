import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { Level } from '../cases/case-rules.js'
import type { Sql } from '../store/sql.js'

/**
 * The people who work cases in the console. Roles follow the escalation levels of the support
 * process: agents own L1, supervisors L2, management (gerencia) L3; admin runs the hub.
 */
export const ROLES = ['agente', 'supervisor', 'gerencia', 'admin'] as const
export type Role = (typeof ROLES)[number]
const RANK: Record<Role, number> = { agente: 1, supervisor: 2, gerencia: 3, admin: 4 }

/** The least role that owns a level: L1 agents, L2 supervisors, L3 management. */
export const ownerOf = (level: Level | string | null): Role =>
  level === 'L3' ? 'gerencia' : level === 'L2' ? 'supervisor' : 'agente'

/** Whether `role` may take or close what sits at `level` (an L3 case is management's). */
export const mayOwn = (role: Role, level: Level | string | null): boolean =>
  RANK[role] >= RANK[ownerOf(level)]

/** Who is doing something: a person with an account, or the admin token. */
export type Person = { id: number | null; name: string; email: string | null; role: Role }

export const TOKEN_PERSON: Person = { id: null, name: 'admin (token)', email: null, role: 'admin' }

/** How the audit log names a person: "Ana Pérez <ana@empresa.example>". */
export const actorName = (p: Person): string => (p.email ? `${p.name} <${p.email}>` : p.name)

// scrypt at N = 2^15, r = 8 (32 MiB, ~0.1 s here): well above the 2^14 of most defaults, and
// bounded so that a burst of sign-ins cannot exhaust the machine's memory.
const N = 2 ** 15
const R = 8
const P = 1
const KEY = 32

const derive = (password: string, salt: Buffer, n = N, r = R, p = P) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, KEY, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt)
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** Whether `password` matches `stored` (a `hashPassword` value), in constant time. */
export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64url')
  const got = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
  )
  return got.length === expected.length && timingSafeEqual(got, expected)
}

/** Passwords: long enough to resist guessing, short enough to bound the hashing work. */
export function passwordProblem(password: string): string | null {
  if (password.length < 10) return 'short'
  if (password.length > 200) return 'long'
  return null
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex')

/** How long a sign-in link printed by `centralita user add` works. */
export const LINK_MS = 72 * 3_600_000

type UserRow = {
  id: number
  email: string
  name: string
  role: Role
  passwordHash: string | null
}

const COLUMNS = 'id, email, name, role, password_hash as "passwordHash"'
const person = (row: UserRow): Person => ({
  id: Number(row.id),
  name: row.name,
  email: row.email,
  role: row.role,
})

/** A one-time link's value, stored as its hash. */
const newLink = () => randomBytes(24).toString('base64url')

/** Console accounts: created from the CLI, signed in with a one-time link, then a password. */
export function peopleStore(db: Sql) {
  return {
    /** A new account and its one-time sign-in link's value; null when the email is taken. */
    async add(
      input: { email: string; name: string; role: Role },
      now: number,
    ): Promise<{ person: Person; link: string } | null> {
      const email = input.email.trim().toLowerCase()
      const taken = await db.get('select id from console_users where email = ?', [email])
      if (taken) return null
      const link = newLink()
      await db.run(
        `insert into console_users (email, name, role, link_hash, link_expires_at, created_at)
         values (?, ?, ?, ?, ?, ?)`,
        [email, input.name.trim(), input.role, hashOf(link), now + LINK_MS, now],
      )
      const row = await db.get<UserRow>(`select ${COLUMNS} from console_users where email = ?`, [
        email,
      ])
      return { person: person(row!), link }
    },
    /** A new one-time link for an account (a forgotten password); null for an unknown email. */
    async relink(email: string, now: number): Promise<string | null> {
      const link = newLink()
      const changed = await db.run(
        'update console_users set link_hash = ?, link_expires_at = ? where email = ?',
        [hashOf(link), now + LINK_MS, email.trim().toLowerCase()],
      )
      return changed.changes > 0 ? link : null
    },
    /** The account a link belongs to, while it works. */
    async byLink(link: string, now: number): Promise<Person | null> {
      const row = await db.get<UserRow>(
        `select ${COLUMNS} from console_users where link_hash = ? and link_expires_at > ?`,
        [hashOf(link), now],
      )
      return row ? person(row) : null
    },
    /** Sets the password chosen on a link, which stops working. */
    async choosePassword(link: string, password: string, now: number): Promise<Person | null> {
      const who = await this.byLink(link, now)
      if (!who) return null
      await db.run(
        `update console_users set password_hash = ?, link_hash = null, link_expires_at = null
          where id = ? and link_hash = ?`,
        [await hashPassword(password), who.id, hashOf(link)],
      )
      return who
    },
    /** The account whose email and password these are. */
    async signIn(email: string, password: string): Promise<Person | null> {
      const row = await db.get<UserRow>(`select ${COLUMNS} from console_users where email = ?`, [
        email.trim().toLowerCase(),
      ])
      // An unknown email costs the same hashing as a wrong password.
      const ok = await checkPassword(password, row?.passwordHash ?? UNKNOWN)
      return row?.passwordHash && ok ? person(row) : null
    },
    async byId(id: number): Promise<Person | null> {
      const row = await db.get<UserRow>(`select ${COLUMNS} from console_users where id = ?`, [id])
      return row ? person(row) : null
    },
    async list(): Promise<(Person & { active: boolean })[]> {
      const rows = await db.all<UserRow>(`select ${COLUMNS} from console_users order by name`)
      return rows.map((r) => ({ ...person(r), active: r.passwordHash !== null }))
    },
  }
}
export type PeopleStore = ReturnType<typeof peopleStore>

// A hash of nothing anyone can type, checked when the email is unknown.
const UNKNOWN = `scrypt$${N}$${R}$${P}$${randomBytes(16).toString('base64url')}$${randomBytes(KEY).toString('base64url')}`
