import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { ROOT } from './process.js'
import { servicePath } from './services.js'

/** Where the browser tests leave their screenshots (git-ignored). */
export const ARTIFACTS = join(ROOT, 'test-artifacts')

/** Debian's Chromium, headless, as the console tests drive it (playwright-core, no download). */
export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return chromium.launch({
    executablePath: servicePath('chromium') ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}
