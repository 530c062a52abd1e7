import { Command } from 'commander'
import { ADAPTERS } from '../../adapters/registry.js'
import { loadConfig } from '../config.js'
import { ConfigError } from '../errors.js'
import { createLogger, silentLogger } from '../logger.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { formatIssues, loadRulebookSource } from '../triage/rulebook/load.js'
import { classifyStream } from './classify.js'
import { dryRun } from './dry-run.js'
import { evaluateCorpus, formatCorpusEvaluation } from './evaluate-corpus.js'
import { serve } from './serve.js'

const out = (text: string) => process.stdout.write(`${text}\n`)

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('centralita')
    .description('Self-hosted switchboard for customer-support channels')
    .showHelpAfterError()

  program
    .command('serve')
    .description('run the hub (webhooks, workers, admin API)')
    .action(async () => {
      await serve(process.env)
    })

  program
    .command('classify')
    .description('classify messages from stdin, one JSON object per input on stdout')
    .option('--jsonl', 'read JSON lines {"text", "channel"?, "role"?} instead of plain text lines')
    .option('--rules <dir>', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .action(async (opts: { jsonl?: boolean; rules: string }) => {
      const config = loadConfig(process.env, ADAPTERS)
      const rulebook = loadRulebook(opts.rules)
      const failures = await classifyStream(process.stdin, out, {
        jsonl: Boolean(opts.jsonl),
        rulebook,
        classifier: loadClassifier(config.classifier, silentLogger),
      })
      if (failures > 0) process.exitCode = 1
    })

  program
    .command('dry-run')
    .description('parse, normalize and triage a saved payload without side effects')
    .requiredOption('--channel <id>', 'channel the payload came from')
    .argument('<payload-file>', 'saved webhook body (or .eml for email)')
    .option('--rules <dir>', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .option('--at <time>', 'decide as at this moment (ISO 8601), e.g. to try out-of-hours rules')
    .action(async (file: string, opts: { channel: string; rules: string; at?: string }) => {
      const config = loadConfig(process.env, ADAPTERS)
      const at = opts.at === undefined ? new Date() : new Date(opts.at)
      if (Number.isNaN(at.getTime()))
        throw new ConfigError(`--at: "${opts.at}" is not a date and time`)
      const result = await dryRun({
        channel: opts.channel,
        file,
        config,
        rulebook: loadRulebook(opts.rules),
        classifier: loadClassifier(config.classifier, silentLogger),
        now: at,
      })
      out(JSON.stringify(result, null, 2))
      if (result.result === 'invalid') process.exitCode = 1
    })

  program
    .command('train')
    .description('train the classifier on the corpus and cache the model')
    .action(() => {
      const config = loadConfig(process.env, ADAPTERS)
      loadClassifier(config.classifier, createLogger({ level: 'info' }))
    })

  program
    .command('eval')
    .description('precision, recall and F1 per intent on the held-out split of the corpus')
    .option('--rules <dir>', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .option('--corpus <dir>', 'corpus directory', process.env.CORPUS_DIR ?? 'data/corpus')
    .option('--validation <dir>', 'independent validation set', 'data/validation')
    .option('--misses', 'list every held-out message the triage got wrong')
    .action((opts: { rules: string; corpus: string; validation: string; misses?: boolean }) => {
      const result = evaluateCorpus(opts.corpus, loadRulebook(opts.rules), opts.validation)
      out(formatCorpusEvaluation(result, Boolean(opts.misses)))
    })

  const rules = program.command('rules').description('work with the rulebook')
  rules
    .command('check')
    .description('validate a rulebook; errors name the file, line and field')
    .argument('[dir]', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .action((dir: string) => {
      const result = loadRulebookSource(dir)
      if (result.ok) {
        out(`rulebook ${dir} is valid (version ${result.version})`)
        return
      }
      process.stderr.write(`${formatIssues(result.issues)}\n`)
      process.exitCode = 1
    })

  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`centralita: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}
