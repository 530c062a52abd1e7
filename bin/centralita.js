#!/usr/bin/env node
// The built CLI lives in dist/ (npm run build; npm start and npm test build first).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('centralita: not built yet; run `npm run build` first\n')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv)
