import { existsSync } from 'node:fs'
import { Command } from 'commander'
import { DateTime } from 'luxon'
import { ADAPTERS } from '../../adapters/registry.js'
import { monthlyReport, reportCsv, reportText } from '../admin/monthly-report.js'
import { peopleStore, ROLES } from '../admin/people.js'
import { databaseFrom, loadConfig } from '../config.js'
import { inboxSchemas } from '../contracts/channel.js'
import { ConfigError } from '../contracts/errors.js'
import { createLogger, silentLogger } from '../kit/logger.js'
import { correctionLines } from '../learning/corrections.js'
import { formatModels, formatRetrain } from '../learning/format.js'
import { listModels, rollbackModel } from '../learning/model-store.js'
import { retrainAlone } from '../learning/retrain.js'
import {
  deadLetterView,
  formatDeadLetters,
  listDeadLetters,
  replayDeadLetters,
  showDeadLetter,
} from '../outbox/dead-letter.js'
import { copyDatabase } from '../store/copy.js'
import { openStore } from '../store/open-store.js'
import { migratePostgres, openPostgres } from '../store/postgres.js'
import type { Sql } from '../store/sql.js'
import { loadClassifier } from '../triage/classifier/load-classifier.js'
import { evaluateDevSets, formatDevReports } from '../triage/evaluate-dev.js'
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

  const withDb = async <T>(use: (db: Sql) => Promise<T>): Promise<T> => {
    const config = loadConfig(process.env, ADAPTERS)
    const store = await openStore(config.database, { poolSize: 2 })
    try {
      return await use(store.sql)
    } finally {
      await store.close()
    }
  }
  const user = program.command('user').description('personal console accounts')
  // Where the link points: the hub's public address when it has one (PUBLIC_URL), else this
  // machine's port.
  const signInLink = (link: string, base?: string) => {
    const origin = (
      base ??
      process.env.PUBLIC_URL ??
      `http://localhost:${loadConfig(process.env, ADAPTERS).port}`
    ).replace(/\/+$/, '')
    return `${origin}/admin/welcome?link=${link}`
  }
  user
    .command('add')
    .description('add a person to the console; prints a one-time sign-in link (valid 72 h)')
    .requiredOption('--email <email>', 'how the person signs in')
    .requiredOption('--name <name>', 'how the audit log names them')
    .requiredOption('--role <role>', `${ROLES.join('|')} (the levels they own: L1, L2, L3, all)`)
    .option('--url <base>', "the console's public address (default PUBLIC_URL or localhost:PORT)")
    .action(async (opts: { email: string; name: string; role: string; url?: string }) => {
      const role = ROLES.find((r) => r === opts.role)
      if (!role) throw new ConfigError(`--role: "${opts.role}" is not one of ${ROLES.join(', ')}`)
      if (!/^[^\s@]+@[^\s@]+$/.test(opts.email) || opts.email.length > 320)
        throw new ConfigError(`--email: "${opts.email}" is not an email address`)
      if (!opts.name.trim() || opts.name.length > 120)
        throw new ConfigError("--name: give the person's name (at most 120 characters)")
      const added = await withDb((db) =>
        peopleStore(db).add({ email: opts.email, name: opts.name, role }, Date.now()),
      )
      if (!added) {
        process.stderr.write(
          `${opts.email} already has an account (centralita user link --email ${opts.email} for a new link)\n`,
        )
        process.exitCode = 1
        return
      }
      out(`${added.person.name} <${added.person.email}> · ${added.person.role}`)
      out(`sign-in link (one use, 72 h): ${signInLink(added.link, opts.url)}`)
    })
  user
    .command('link')
    .description('a new one-time sign-in link for an account (a forgotten password)')
    .requiredOption('--email <email>', 'the account')
    .option('--url <base>', "the console's public address (default PUBLIC_URL or localhost:PORT)")
    .action(async (opts: { email: string; url?: string }) => {
      const link = await withDb((db) => peopleStore(db).relink(opts.email, Date.now()))
      if (!link) {
        process.stderr.write(`no account for ${opts.email}\n`)
        process.exitCode = 1
        return
      }
      out(`sign-in link (one use, 72 h): ${signInLink(link, opts.url)}`)
    })
  user
    .command('list')
    .description('the console accounts')
    .action(async () => {
      const people = await withDb((db) => peopleStore(db).list())
      for (const p of people)
        out(`${p.email}\t${p.name}\t${p.role}\t${p.active ? 'active' : 'link not used yet'}`)
    })

  const dbCommand = program.command('db').description('the database')
  dbCommand
    .command('copy')
    .description('copy every row of one hub database into another, empty one (SQLite → PostgreSQL)')
    .requiredOption('--from <url>', 'the database to copy (file:data/centralita.db)')
    .requiredOption('--to <url>', 'the empty database to fill (postgres://…), migrated first')
    .action(async (opts: { from: string; to: string }) => {
      const from = await openStore(databaseFrom(opts.from), { poolSize: 2 })
      try {
        const to = await openStore(databaseFrom(opts.to), { poolSize: 2 })
        try {
          await copyDatabase(from.sql, to.sql, (table, rows) => out(`${table}: ${rows}`))
          out('copied: start the hubs on the new DATABASE_URL')
        } finally {
          await to.close()
        }
      } finally {
        await from.close()
      }
    })
  dbCommand
    .command('migrate')
    .description('apply the migrations the database lacks (the hub also does at start)')
    .action(async () => {
      const config = loadConfig(process.env, ADAPTERS)
      if (config.database.engine === 'sqlite') {
        await (await openStore(config.database)).close()
        out(`SQLite ${config.databasePath}: migrated`)
        return
      }
      const pg = openPostgres(config.database.url, { max: 1 })
      try {
        const applied = await migratePostgres(pg.sql)
        out(applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply')
      } finally {
        await pg.close()
      }
    })
  program
    .command('train')
    .description(
      "train the classifier on the corpus (cached), then on the corpus plus the hub's corrections",
    )
    .option('--rules <dir>', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .option('--by <name>', 'who asked for it (kept with the model)', 'cli')
    .action(async (opts: { rules: string; by: string }) => {
      const config = loadConfig(process.env, ADAPTERS)
      loadClassifier(config.classifier, createLogger({ level: 'info' }))
      // Without a hub database (building an image) there is nothing more to learn from.
      if (
        config.database.engine === 'sqlite' &&
        config.databasePath !== ':memory:' &&
        !existsSync(config.databasePath)
      ) {
        out(`no hub database at ${config.databasePath}: trained on the corpus only`)
        return
      }
      const result = await withDb((db) =>
        retrainAlone(db, {
          corpusDir: config.classifier.corpusDir,
          rulebook: loadRulebook(opts.rules),
          by: opts.by,
          now: () => Date.now(),
        }),
      )
      if (result.outcome === 'busy') {
        process.stderr.write(`${result.reason}: try again when it is done\n`)
        process.exitCode = 1
        return
      }
      out(formatRetrain(result))
      if (result.outcome === 'refused') process.exitCode = 3
    })

  const model = program.command('model').description('the classifier models trained on corrections')
  model
    .command('list')
    .description('every training, newest first: status, measures and why')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withDb((db) => listModels(db))
      out(opts.json ? rows.map((r) => JSON.stringify(r)).join('\n') : formatModels(rows))
    })
  model
    .command('rollback')
    .description('put the model before the active one back in use (or the corpus model)')
    .option('--by <name>', 'who asked for it (kept in the audit log)', 'cli')
    .action(async (opts: { by: string }) => {
      const result = await withDb((db) => rollbackModel(db, opts.by, Date.now()))
      if (result.outcome === 'nothing_to_roll_back') {
        out('the corpus model is in use: nothing to roll back')
        process.exitCode = 1
        return
      }
      out(
        `model #${result.from} retired; in use now: ${result.to === null ? 'the corpus model' : `model #${result.to}`}`,
      )
    })

  program
    .command('corrections')
    .description("people's corrections of the triage")
    .command('export')
    .description('every correction as JSON lines (text, decision, correction, who, when)')
    .action(async () => {
      await withDb(async (db) => {
        for await (const line of correctionLines(db)) process.stdout.write(`${line}\n`)
      })
    })

  program
    .command('eval')
    .description('precision, recall and F1 per intent on the held-out split of the corpus')
    .option('--rules <dir>', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .option('--corpus <dir>', 'corpus directory', process.env.CORPUS_DIR ?? 'data/corpus')
    .option('--validation <dir>', 'independent validation set', 'data/validation')
    .option('--dev <dir>', 'development sets of text the classifier never trained on', 'data/dev')
    .option('--misses', 'list every held-out message the triage got wrong')
    .action(
      (opts: {
        rules: string
        corpus: string
        validation: string
        dev: string
        misses?: boolean
      }) => {
        const rulebook = loadRulebook(opts.rules)
        const result = evaluateCorpus(opts.corpus, rulebook, opts.validation)
        out(formatCorpusEvaluation(result, Boolean(opts.misses)))
        // The development sets are read by the classifier the hub runs (trained on the whole
        // corpus): none of their text is in it. Only counts are shown, never the texts: the
        // rules are not to be tuned message by message to them.
        const config = loadConfig(process.env, ADAPTERS)
        const classifier = loadClassifier(config.classifier, silentLogger)
        out('')
        out(formatDevReports(evaluateDevSets(opts.dev, rulebook, classifier), true))
      },
    )

  const dlq = program
    .command('dlq')
    .description('the dead letter: outbound actions that failed for good')
  const ids = (values: string[]) =>
    values.map((v) => {
      if (!/^\d+$/.test(v)) throw new ConfigError(`"${v}" is not an effect id`)
      return Number(v)
    })
  dlq
    .command('list')
    .description('list dead effects, newest first')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const rows = await withDb((db) => listDeadLetters(db, Math.max(1, Number(opts.limit) || 100)))
      out(
        opts.json
          ? rows.map((r) => JSON.stringify(deadLetterView(r))).join('\n')
          : formatDeadLetters(rows),
      )
    })
  dlq
    .command('show')
    .description('one effect in full: payload, tries, last error')
    .argument('<id>', 'effect id')
    .action(async (id: string) => {
      const [effect] = ids([id])
      const row = await withDb((db) => showDeadLetter(db, effect!))
      if (!row) throw new ConfigError(`no effect ${id}`)
      out(JSON.stringify(row, null, 2))
    })
  dlq
    .command('replay')
    .description('queue dead effects again with a fresh budget of tries')
    .argument('[ids...]', 'effect ids')
    .option('--all', 'every dead effect')
    .action(async (values: string[], opts: { all?: boolean }) => {
      const result = await withDb(async (db) => {
        const chosen = opts.all
          ? (await listDeadLetters(db, 100_000)).map((r) => r.id)
          : ids(values)
        if (chosen.length === 0) throw new ConfigError('name the effects to replay, or --all')
        return replayDeadLetters(db, chosen, 'cli', new Date())
      })
      out(
        `replayed ${result.replayed.length}${result.skipped.length ? `; not dead, left as they are: ${result.skipped.join(', ')}` : ''}`,
      )
    })

  program
    .command('report')
    .description('the monthly customer-service report (text, or CSV with --csv)')
    .option('--month <yyyy-mm>', 'the month, in the business time zone (default: this month)')
    .option('--csv', 'one section,key,value row per figure')
    .action(async (opts: { month?: string; csv?: boolean }) => {
      const timezone = loadRulebook(process.env.RULES_DIR ?? 'rules').calendarFor(null).timezone
      const month = opts.month ?? DateTime.now().setZone(timezone).toFormat('yyyy-MM')
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
        throw new ConfigError(`--month: expected a month like 2026-11, got "${month}"`)
      const report = await withDb((db) => monthlyReport(db, month, timezone))
      out(opts.csv ? reportCsv(report).trimEnd() : reportText(report))
    })

  const rules = program.command('rules').description('work with the rulebook')
  rules
    .command('check')
    .description('validate a rulebook; errors name the file, line and field')
    .argument('[dir]', 'rulebook directory', process.env.RULES_DIR ?? 'rules')
    .action((dir: string) => {
      const result = loadRulebookSource(dir, inboxSchemas(ADAPTERS))
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
