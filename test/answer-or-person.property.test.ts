import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADAPTERS, adapterById } from '../adapters/registry.js'
import { planEffects } from '../src/actions/plan.js'
import { replyTools } from '../src/actions/reply-tools.js'
import { subjectOf } from '../src/cli/dry-run.js'
import { loadConfig } from '../src/config.js'
import type { ChannelEntry } from '../src/contracts/channel.js'
import { type NormalizedMessage, sha256Hex } from '../src/contracts/message.js'
import { silentLogger } from '../src/kit/logger.js'
import { decide } from '../src/pipeline/decide.js'
import { settleForPlan } from '../src/pipeline/settle.js'
import { loadCorpus } from '../src/triage/classifier/corpus.js'
import { loadClassifier } from '../src/triage/classifier/load-classifier.js'
import { loadRulebook } from '../src/triage/rulebook/compile.js'
import { analyzeText, type Decision, type IntentClassifier } from '../src/triage/triage.js'
import { RULES_DIR, tempDir } from './helpers/hub.js'
import { ROOT, run } from './helpers/process.js'

// ARCHITECTURE.md §7: every inbound customer message ends with an automatic answer planned on
// its channel or with a person, never with neither. Checked here on every corpus and validation
// message and on generated text, on every channel, in and out of business hours, with every
// outbound way configured and with none; then on `centralita dry-run`'s output.

// Wednesday 18 November 2026, 12:00 in Santiago; and Sunday 22 November, 23:00.
const IN_HOURS = new Date('2026-11-18T15:00:00Z')
const OUT_OF_HOURS = new Date('2026-11-23T02:00:00Z')

/** Every channel on, every way out configured (planning is pure: nothing is contacted). */
const FULL = {
  TAWK_WEBHOOK_SECRET: 'tawk-secret',
  CHATWOOT_WEBHOOK_SECRET: 'chatwoot-secret',
  CHATWOOT_BASE_URL: 'http://127.0.0.1:9',
  CHATWOOT_API_TOKEN: 'token',
  CHATWOOT_ACCOUNT_ID: '1',
  CHATWOOT_MIRROR_INBOX_ID: '9',
  EMAIL_FROM: 'Soporte <soporte@tienda.example>',
  SMTP_URL: 'smtp://127.0.0.1:9',
  EMAIL_WEBHOOK_SECRET: 'email-secret-0123456789',
  WHATSAPP_APP_SECRET: 'meta-secret',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
  WHATSAPP_ACCESS_TOKEN: 'token',
  WHATSAPP_PHONE_NUMBER_ID: '110022003300440',
  INTERNAL_WEBHOOK_SECRET: 'internal-secret-0123456789',
  INTERNAL_CALLBACK_URL: 'http://127.0.0.1:9/events',
}
/** Every channel takes messages in; none can send anything out. */
const BARE = {
  TAWK_WEBHOOK_SECRET: 'tawk-secret',
  CHATWOOT_WEBHOOK_SECRET: 'chatwoot-secret',
  EMAIL_WEBHOOK_SECRET: 'email-secret-0123456789',
  WHATSAPP_APP_SECRET: 'meta-secret',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
  INTERNAL_WEBHOOK_SECRET: 'internal-secret-0123456789',
}

/** A real payload of each channel, whose customer message is rewritten with each text. */
const TEMPLATES: [channel: string, file: string][] = [
  ['whatsapp', 'adapters/whatsapp/fixtures/text_horario_es.json'],
  ['chatwoot', 'adapters/chatwoot/fixtures/message_created_incoming.json'],
  ['tawkto', 'adapters/tawkto/fixtures/chat_start.json'],
  ['tawkto', 'adapters/tawkto/fixtures/ticket_create.json'],
  ['email', 'adapters/email/fixtures/consulta_envio.eml'],
  ['internal', 'adapters/internal/fixtures/cliente_soporte.json'],
  ['internal', 'adapters/internal/fixtures/operador_caja.json'],
]

type Setup = { channels: Map<string, ChannelEntry>; tools: ReturnType<typeof replyTools> }
function setup(env: Record<string, string>): Setup {
  const config = loadConfig(env, ADAPTERS)
  const channels = new Map<string, ChannelEntry>()
  for (const [id, settings] of config.channels) {
    const adapter = adapterById.get(id)
    if (adapter) channels.set(id, { adapter, settings })
  }
  return { channels, tools: replyTools(channels) }
}

type Ended = {
  decision: Decision
  branch: string
  replySent: boolean
  replyEffect: boolean
  answeredLately: boolean
}

/** Where a message ends, and what was planned for it. */
function violation(ended: Ended): string | null {
  const { decision, branch } = ended
  const person =
    decision.queue !== null || decision.ticket !== null || decision.assignedOperator !== null
  if (branch === 'answer') {
    return ended.replySent && ended.replyEffect ? null : 'answer without a planned reply'
  }
  if (branch === 'person') return person ? null : 'person without a queue, ticket or operator'
  if (branch === 'closed') {
    if (!decision.acts.includes('closing')) return 'closed without a closing'
    return ended.answeredLately ? null : 'closed with nothing answered before'
  }
  return `unknown branch ${branch}`
}

describe('every triaged customer message ends with an answer or a person', () => {
  const rulebook = loadRulebook(RULES_DIR)
  let classifier: IntentClassifier
  const setups = { full: setup(FULL), bare: setup(BARE) }
  /** A normalized message of each template, to be given each text. */
  const samples: NormalizedMessage[] = []

  beforeAll(async () => {
    classifier = loadClassifier({ corpusDir: 'data/corpus', cacheDir: 'data/model' }, silentLogger)
    const config = loadConfig(FULL, ADAPTERS)
    for (const [channel, file] of TEMPLATES) {
      const rawBody = readFileSync(join(ROOT, file))
      const parsed = await adapterById
        .get(channel)!
        .parse(
          { method: 'POST', rawBody, rawHash: sha256Hex(rawBody), headers: {}, query: {} },
          config.channels.get(channel)!.config,
          IN_HOURS,
        )
      if (parsed.kind !== 'accepted') throw new Error(`${file} did not parse`)
      const message = parsed.messages.find((m) => m.triage)
      if (!message) throw new Error(`${file} has no triaged message`)
      samples.push(message)
    }
  })

  /** How many runs ended in each branch (the check must see all three). */
  const branches = new Map<string, number>()

  /** Runs the triage pipeline on `text` as each sample's message, in every situation. */
  function check(text: string, index: number): string[] {
    const problems: string[] = []
    const analysis = analyzeText({ text, language: null }, rulebook, classifier)
    for (const sample of samples) {
      for (const now of [IN_HOURS, OUT_OF_HOURS]) {
        const which = index % 2 === 0 ? 'full' : 'bare'
        const { channels, tools } = setups[which]
        // Messages of the last minute, so a messaging window is open where there is one.
        const message = {
          ...sample,
          text,
          subject: undefined,
          sentAt: new Date(now.getTime() - 60_000).toISOString(),
        }
        const subject = subjectOf(message)
        const answeredLately = index % 3 === 0
        const { decision, nextOpen } = decide(subject, {
          rulebook,
          classifier,
          analysis,
          now,
          recentComplaints: 0,
        })
        const planning = { subject, rulebook, channels, tools, now, nextOpen }
        const settled = settleForPlan(planning, decision, null, () => answeredLately)
        const plan = planEffects({ ...planning, decision: settled.decision, ticket: null })
        const branch = settled.outcome.branch
        branches.set(branch, (branches.get(branch) ?? 0) + 1)
        const problem = violation({
          decision: settled.decision,
          branch: settled.outcome.branch,
          replySent: plan.replySent !== null,
          replyEffect: plan.effects.some((e) => e.key.endsWith(':reply')),
          answeredLately,
        })
        if (problem) {
          problems.push(
            `${problem}: ${JSON.stringify(text)} on ${sample.channel} (${which}, ${now.toISOString()})`,
          )
        }
      }
    }
    return problems
  }

  it('on every corpus and validation message', () => {
    const texts = [
      ...loadCorpus('data/corpus').rows.map((r) => r.text),
      ...['validation', 'second'].flatMap((name) =>
        readFileSync(join(ROOT, 'data/validation', `${name}.jsonl`), 'utf8')
          .split('\n')
          .filter((line) => line.trim())
          .map((line) => (JSON.parse(line) as { text: string }).text),
      ),
    ]
    expect(texts.length).toBeGreaterThan(2500)
    const problems = texts.flatMap((text, i) => check(text, i))
    expect(problems.slice(0, 10)).toEqual([])
    // Each way of ending is exercised, answers on the channels that could send them.
    expect(branches.get('answer')).toBeGreaterThan(1000)
    expect(branches.get('person')).toBeGreaterThan(10_000)
    expect(branches.get('closed')).toBeGreaterThan(0)
  }, 120_000)

  it('on generated text: random words, emoji alone, nothing at all', () => {
    const word = fc.stringMatching(/^[a-záéíóúñ]{1,12}$/)
    const emoji = fc.constantFrom('👍', '🙏', '😡', '👋', '❤️', '🤔', '🚗', '💸', '😂', '🔥')
    const text = fc.oneof(
      fc.array(word, { minLength: 1, maxLength: 12 }).map((w) => w.join(' ')),
      fc.array(emoji, { minLength: 1, maxLength: 5 }).map((e) => e.join('')),
      fc.constantFrom('', ' ', '\n\n', '...', '?', '!!!'),
      fc.string({ maxLength: 80 }),
    )
    fc.assert(
      fc.property(text, fc.nat(5), (t, i) => {
        expect(check(t, i)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })
})

describe('centralita dry-run says how each message ends', () => {
  const cases = [
    '¿Aceptan tarjeta de crédito?',
    '¿Puedo pagar con transferencia?',
    '¿Tienen boleta o factura?',
    'Do you accept credit cards?',
    'necesito hablar con alguien',
    'hola',
    'Buenas tardes',
    'gracias!!',
    'ok',
    'me cobraron dos veces',
  ]
  const env = {
    WHATSAPP_APP_SECRET: 'meta-secret',
    WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
    WHATSAPP_ACCESS_TOKEN: 'token',
    WHATSAPP_PHONE_NUMBER_ID: '110022003300440',
  }

  it.each([
    ['in business hours', '2026-11-18T15:00:00Z'],
    ['out of hours', '2026-11-23T02:00:00Z'],
  ])('on WhatsApp, %s', (_when, at) => {
    const sent = Math.floor(Date.parse(at) / 1000) - 60
    const batch = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1029384756102938',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: '56229876543',
                  phone_number_id: '110022003300440',
                },
                contacts: [{ profile: { name: 'Pedro' }, wa_id: '56911112222' }],
                messages: cases.map((text, i) => ({
                  from: '56911112222',
                  id: `wamid.dry-${i}`,
                  timestamp: String(sent),
                  type: 'text',
                  text: { body: text },
                })),
              },
            },
          ],
        },
      ],
    }
    const { dir, cleanup } = tempDir()
    try {
      const file = join(dir, 'batch.json')
      writeFileSync(file, JSON.stringify(batch))
      const { code, stdout } = run(['dry-run', '--channel', 'whatsapp', '--at', at, file], '', env)
      expect(code).toBe(0)
      const result = JSON.parse(stdout) as {
        decisions: {
          decision: Decision
          outcome: { branch: string }
          effects: { key: string }[]
        }[]
      }
      expect(result.decisions).toHaveLength(cases.length)
      const ends = result.decisions.map((d) => {
        expect(
          violation({
            decision: d.decision,
            branch: d.outcome.branch,
            replySent: d.decision.reply !== null,
            replyEffect: d.effects.some((e) => e.key.endsWith(':reply')),
            // A dry run is a conversation seen for the first time.
            answeredLately: false,
          }),
        ).toBeNull()
        return [d.outcome.branch, d.decision.reply?.kind ?? d.decision.queue]
      })
      expect(Object.fromEntries(cases.map((text, i) => [text, ends[i]]))).toEqual({
        '¿Aceptan tarjeta de crédito?': ['answer', 'faq'],
        '¿Puedo pagar con transferencia?': ['answer', 'faq'],
        '¿Tienen boleta o factura?': ['answer', 'faq'],
        'Do you accept credit cards?': ['answer', 'faq'],
        'necesito hablar con alguien': ['person', 'handoff'],
        hola: ['answer', 'welcome'],
        'Buenas tardes': ['answer', 'welcome'],
        // Nothing was answered before in a dry run: a person reads them.
        'gracias!!': ['person', 'general'],
        ok: ['person', 'general'],
        'me cobraron dos veces': ['person', 'finanzas'],
      })
    } finally {
      cleanup()
    }
  })
})
