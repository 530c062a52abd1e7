import type { Request } from 'express'

/**
 * Whether a state-changing request was made by the console's own pages. A page on another
 * site, or on the same site at another origin (another port, another subdomain), can make a
 * browser send the session cookie; it cannot make it say the request came from this origin.
 * Browsers send `Sec-Fetch-Site` (and `Origin` on POST); a request with neither did not come
 * from a browser page, so it carries no ambient cookie worth forging.
 */
export function sameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site')
  if (site) return site === 'same-origin' || site === 'none'
  const origin = req.get('origin')
  if (origin === undefined) return true
  return origin === `${req.protocol}://${req.get('host')}`
}
