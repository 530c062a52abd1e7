import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestHandler } from 'express'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * `Authorization: Bearer <token>`, compared in constant time (both sides hashed first, so
 * neither the content nor the length of a guess shows in the timing). Anything else is 401.
 */
export function requireBearer(token: string): RequestHandler {
  const expected = digest(token)
  return (req, res, next) => {
    const header = req.get('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next()
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' })
  }
}
