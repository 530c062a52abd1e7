import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/**
 * The folder holding centralita's package.json, found by walking up from this file. Works
 * the same from `src/` (tests) and `dist/src/` (the built bin).
 */
export function packageRoot(): string {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('centralita: package.json not found above the code')
    dir = parent
  }
  cached = dir
  return dir
}
