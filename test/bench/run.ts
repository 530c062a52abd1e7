import { benchClassify } from './classify.js'

// `npm run bench`: a benchmark, not a test. Prints its figures; nothing here can fail a build.
const which = process.argv[2] ?? 'all'
if (which === 'all' || which === 'classify') {
  const r = benchClassify()
  process.stdout.write(
    `classification (one core, full triage): ${r.perSecond.toLocaleString('en')} messages/s, ` +
      `p50 ${r.p50us} µs, p99 ${r.p99us} µs, max ${r.maxUs} µs ` +
      `(${r.messages.toLocaleString('en')} messages over ${r.distinctTexts} distinct texts; ${r.cpu})\n`,
  )
}
