import { cpus } from 'node:os'

// The bench measures the code that ships: the build in dist/ (`npm run bench` builds first),
// not tsx's transform of src/, which wraps inner functions in esbuild's `__name` helper and
// ran 7-19 % slower in alternate runs here.
const built = <T>(path: string): Promise<T> =>
  import(new URL(`../../dist/src/${path}`, import.meta.url).href)

/**
 * Classification throughput on one core: the full triage (normalization, rules, classifier,
 * FAQ matching, routing) over every message of the corpus, repeated. Prints messages per
 * second and the per-message latency percentiles.
 */
export async function benchClassify(options: { messages?: number } = {}) {
  const [{ silentLogger }, { loadCorpus }, { loadClassifier }, { loadRulebook }, { triage }] =
    await Promise.all([
      built<typeof import('../../src/kit/logger.js')>('kit/logger.js'),
      built<typeof import('../../src/triage/classifier/corpus.js')>('triage/classifier/corpus.js'),
      built<typeof import('../../src/triage/classifier/load-classifier.js')>(
        'triage/classifier/load-classifier.js',
      ),
      built<typeof import('../../src/triage/rulebook/compile.js')>('triage/rulebook/compile.js'),
      built<typeof import('../../src/triage/triage.js')>('triage/triage.js'),
    ])
  const rulebook = loadRulebook('rules')
  const classifier = loadClassifier(
    { corpusDir: 'data/corpus', cacheDir: 'data/model' },
    silentLogger,
  )
  const texts = loadCorpus('data/corpus').rows.map((r) => r.text)
  const total = options.messages ?? 200_000
  // Warm up: stem caches and the JIT, as on a running hub.
  for (let i = 0; i < 20_000; i++) triage({ text: texts[i % texts.length]! }, rulebook, classifier)
  const latencies = new Float64Array(total)
  const started = process.hrtime.bigint()
  for (let i = 0; i < total; i++) {
    const t0 = process.hrtime.bigint()
    triage({ text: texts[i % texts.length]!, channel: 'chatwoot' }, rulebook, classifier)
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  latencies.sort()
  const at = (q: number) => latencies[Math.min(total - 1, Math.floor(q * total))]!
  return {
    messages: total,
    distinctTexts: texts.length,
    perSecond: Math.round(total / seconds),
    p50us: Math.round(at(0.5) * 10) / 10,
    p99us: Math.round(at(0.99) * 10) / 10,
    maxUs: Math.round(latencies[total - 1]! * 10) / 10,
    cpu: cpus()[0]?.model ?? 'unknown',
  }
}
