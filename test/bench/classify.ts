import { cpus } from 'node:os'
import { silentLogger } from '../../src/logger.js'
import { loadCorpus } from '../../src/triage/classifier/corpus.js'
import { loadClassifier } from '../../src/triage/classifier/load-classifier.js'
import { loadRulebook } from '../../src/triage/rulebook/compile.js'
import { triage } from '../../src/triage/triage.js'

/**
 * Classification throughput on one core: the full triage (normalization, rules, classifier,
 * FAQ matching, routing) over every message of the corpus, repeated. Prints messages per
 * second and the per-message latency percentiles.
 */
export function benchClassify(options: { messages?: number } = {}) {
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
