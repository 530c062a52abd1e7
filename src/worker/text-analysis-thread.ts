import { parentPort, workerData } from 'node:worker_threads'
import { classifierFromFile } from '../triage/classifier/compiled-model.js'
import { compileFaq } from '../triage/faq-answerer.js'
import { compileTerms } from '../triage/match-terms.js'
import { analyzeText, type TextAnalysis, type TextRules } from '../triage/triage.js'
import type { AnalysisRequest } from './text-analysis.js'

// The text-analysis thread (started by `text-analysis.ts`): it compiles the rules the hub sends
// it and reads the hub's classifier from its cache file, and reads or writes nothing else.

const { classifierFile } = workerData as { classifierFile: string | null }
let classifier = classifierFile ? classifierFromFile(classifierFile) : null
let rules: TextRules | null = null

parentPort!.on('message', (request: AnalysisRequest) => {
  if (request.kind === 'classifier') {
    // A model adopted or rolled back: requests after this one are analysed with it. If it
    // cannot be read, analyses come back without a classifier's name the hub has, and the hub
    // works them out itself.
    try {
      classifier = request.file ? classifierFromFile(request.file) : null
    } catch {
      classifier = null
    }
    return
  }
  if (request.kind === 'rules') {
    const { version, settings, intents, signals, acts, faq } = request
    rules = {
      version,
      settings,
      terms: compileTerms(intents, signals, acts),
      faq: compileFaq(faq),
    }
    parentPort!.postMessage({ ready: version })
    return
  }
  const current = rules
  const results: { id: number; analysis: TextAnalysis | null }[] = []
  for (const item of request.items) {
    // A message whose analysis fails comes back without one (as would one asked for before
    // any rules, which the hub never does): the hub works it out itself, and fails or
    // retries it there as it would without this thread.
    let analysis: TextAnalysis | null = null
    try {
      if (current) analysis = analyzeText(item, current, classifier)
    } catch {}
    results.push({ id: item.id, analysis })
  }
  parentPort!.postMessage(results)
})
