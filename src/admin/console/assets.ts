import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type RequestHandler, Router } from 'express'
import { packageRoot } from '../../package-root.js'

const TYPES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
}

/**
 * The console's stylesheet and script (`src/admin/console/assets/`), read once and served
 * with their type and `nosniff`: the pages load them instead of carrying inline code, so the
 * console's Content-Security-Policy allows no inline script or style.
 */
export function consoleAssets(): Router {
  const dir = join(packageRoot(), 'src/admin/console/assets')
  const files = new Map(
    Object.keys(TYPES).map((name) => [name, readFileSync(join(dir, name))] as const),
  )
  const serve: RequestHandler = (req, res) => {
    const name = String(req.params.name)
    const body = files.get(name)
    if (!body) {
      res.status(404).type('text').send('not found')
      return
    }
    res
      .type(TYPES[name]!)
      .set('X-Content-Type-Options', 'nosniff')
      .set('Cache-Control', 'public, max-age=3600')
      .send(body)
  }
  return Router().get('/:name', serve)
}
