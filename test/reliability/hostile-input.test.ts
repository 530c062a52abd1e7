import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { count } from 'drizzle-orm'
import fc from 'fast-check'
import { checkSync } from 'recheck'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMime } from '../../adapters/email/parse-mime.js'
import { LINE_LIMIT, REPLY_PATTERNS, stripReply } from '../../adapters/email/strip-reply.js'
import { WEBHOOK_PATH } from '../../src/http/webhook-route.js'
import { silentLogger } from '../../src/kit/logger.js'
import { jobs, messages } from '../../src/store/schema.js'
import { triageBacklog } from '../../src/store/triage-queue.js'
import { loadClassifier } from '../../src/triage/classifier/load-classifier.js'
import { ENTITY_PATTERNS } from '../../src/triage/entities.js'
import { loadRulebook } from '../../src/triage/rulebook/compile.js'
import { TRIAGE_TEXT_LIMIT, triage } from '../../src/triage/triage.js'
import { SECRETS } from '../helpers/deliveries.js'
import { RULES_DIR, testHub } from '../helpers/hub.js'
import { chatwootHeaders, tawkHeaders } from '../helpers/sign.js'
import { waitFor } from '../helpers/wait.js'
import { SIZES } from './harness.js'

// Whatever arrives — random bytes, JSON of any shape, valid payloads with fields replaced by
// anything, correctly signed or not — the hub answers 2xx or 4xx and keeps serving. Every
// regular expression that reads untrusted text is checked for catastrophic backtracking.

const ROOT = join(import.meta.dirname, '../..')
const fixture = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as unknown

/** Signed as each channel signs, for a raw body. */
const signers: Record<string, (body: string) => Record<string, string>> = {
  chatwoot: (body) =>
    chatwootHeaders(body, SECRETS.chatwoot, { delivery: `fuzz-${Math.random()}` }),
  tawkto: (body) => tawkHeaders(body, SECRETS.tawk, `fuzz-${Math.random()}`),
  whatsapp: (body) => ({
    'content-type': 'application/json',
    'x-hub-signature-256': `sha256=${createHmac('sha256', SECRETS.whatsapp).update(body).digest('hex')}`,
  }),
  internal: (body) => {
    const id = `msg_fuzz_${Math.random()}`
    const timestamp = String(Math.floor(Date.now() / 1000))
    const signature = createHmac('sha256', SECRETS.internal)
      .update(`${id}.${timestamp}.${body}`)
      .digest('base64')
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    }
  },
  email: () => ({ 'content-type': 'message/rfc822', authorization: `Bearer ${SECRETS.email}` }),
}

/** Real payloads each channel sends, the seeds the mutations start from. */
const seeds: Record<string, unknown[]> = {
  chatwoot: [
    'message_created_incoming',
    'message_created_legal',
    'conversation_status_changed',
  ].map((f) => fixture(`adapters/chatwoot/fixtures/${f}.json`)),
  tawkto: ['chat_start', 'chat_transcript_created', 'ticket_create'].map((f) =>
    fixture(`adapters/tawkto/fixtures/${f}.json`),
  ),
  whatsapp: [
    'pywa_message_text',
    'pywa_message_image',
    'pywa_message_status_delivered',
    'pywa_callback_button_button',
  ].map((f) => fixture(`adapters/whatsapp/fixtures/${f}.json`)),
  internal: ['cliente_soporte', 'operador_caja'].map((f) =>
    fixture(`adapters/internal/fixtures/${f}.json`),
  ),
}
const emails = readdirSync(join(ROOT, 'adapters/email/fixtures'))
  .filter((f) => f.endsWith('.eml'))
  .map((f) => readFileSync(join(ROOT, 'adapters/email/fixtures', f), 'utf8'))

/** Every path to a value inside a JSON document. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => paths(v, [...at, i]))]
  if (value && typeof value === 'object')
    return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))]
  return [at]
}

function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement
  const copy = structuredClone(value) as Record<string | number, unknown>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  node[path.at(-1)!] = replacement
  return copy
}

/** A real payload with one to three of its values (or whole subtrees) replaced by anything. */
const mutated = (channel: string) =>
  fc
    .tuple(
      fc.constantFrom(...seeds[channel]!),
      fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })), { minLength: 1, maxLength: 3 }),
    )
    .map(([seed, edits]) =>
      JSON.stringify(
        edits.reduce((doc, [pick, replacement]) => {
          const all = paths(doc)
          return replaceAt(doc, all[pick % all.length]!, replacement)
        }, seed),
      ),
    )

const mimeLike = fc
  .tuple(fc.constantFrom(...emails), fc.nat(), fc.nat(), fc.string({ maxLength: 200 }))
  .map(([eml, from, length, insert]) => {
    const at = from % eml.length
    return eml.slice(0, at) + insert + eml.slice(at + (length % 400))
  })

describe('hostile input', () => {
  let t: ReturnType<typeof testHub>
  let base: string

  beforeAll(async () => {
    t = testHub({
      TAWK_WEBHOOK_SECRET: SECRETS.tawk,
      CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
      EMAIL_WEBHOOK_SECRET: SECRETS.email,
      EMAIL_FROM: 'soporte@tienda.example',
      WHATSAPP_APP_SECRET: SECRETS.whatsapp,
      WHATSAPP_VERIFY_TOKEN: 'verify-token-123',
      INTERNAL_WEBHOOK_SECRET: SECRETS.internal,
      WEBHOOK_RATE_LIMIT: '1000000',
      WEBHOOK_BODY_LIMIT: '64kb',
    })
    base = `http://127.0.0.1:${(await t.hub.listen()).port}`
  })
  afterAll(async () => {
    await t?.close()
  })

  const post = async (channel: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${base}/webhooks/${channel}`, { method: 'POST', headers, body })
    await res.arrayBuffer()
    return res.status
  }
  const answersWithout5xx = (status: number) => status >= 200 && status < 500

  for (const channel of ['chatwoot', 'tawkto', 'whatsapp', 'internal'] as const) {
    it(`${channel}: signed bodies of any shape get 2xx or 4xx`, async () => {
      const bodies = fc.oneof(
        mutated(channel),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
      )
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          expect(answersWithout5xx(await post(channel, body, signers[channel]!(body)))).toBe(true)
        }),
        { numRuns: SIZES.fuzzRuns },
      )
    }, 120_000)
  }

  it('email: signed MIME of any shape gets 2xx or 4xx', async () => {
    const bodies = fc.oneof(mimeLike, fc.string({ maxLength: 500 }))
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        expect(answersWithout5xx(await post('email', body, signers.email!(body)))).toBe(true)
      }),
      { numRuns: SIZES.fuzzRuns },
    )
  }, 120_000)

  it('unsigned or wrongly signed requests, with any headers, are refused without a 5xx', async () => {
    const headers = fc.dictionary(
      fc.constantFrom(
        'x-chatwoot-signature',
        'x-chatwoot-timestamp',
        'x-tawk-signature',
        'x-hub-signature-256',
        'webhook-signature',
        'webhook-timestamp',
        'webhook-id',
        'authorization',
        'content-type',
      ),
      fc.string({ maxLength: 80 }).filter((v) => /^[\x21-\x7e ]*$/.test(v)),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('chatwoot', 'tawkto', 'whatsapp', 'internal', 'email', 'nope'),
        headers,
        fc.string({ maxLength: 200 }),
        async (channel, h, body) => {
          const status = await post(channel, body, h)
          expect([400, 401, 404, 413, 415]).toContain(status)
        },
      ),
      { numRuns: SIZES.fuzzRuns },
    )
    // And the hub is still there.
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  }, 120_000)

  it('any path and query under /webhooks, with any method, get 2xx or 4xx', async () => {
    // Sent as written (fetch would normalise the URL): percent signs that decode to nothing,
    // dot segments, doubled slashes, and queries of any shape reach the webhook route.
    const pathChar = fc.constantFrom(...'abcXYZ019/%.?&=+#;:@!$*()~_-[]{}|^`\\\'"<>'.split(''))
    const segment = fc.array(pathChar, { maxLength: 40 }).map((chars) => chars.join(''))
    const send = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(base)
        const req = request({ hostname, port, path, method }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        req.end(method === 'POST' ? '{}' : undefined)
      })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'),
        fc.constantFrom('/webhooks/', '/WEBHOOKS/', '/webhooks/chatwoot', '/webhooks//'),
        segment,
        async (method, prefix, rest) => {
          expect(answersWithout5xx(await send(method, `${prefix}${rest}`))).toBe(true)
        },
      ),
      { numRuns: SIZES.fuzzRuns },
    )
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  }, 120_000)

  it('every message the fuzzed deliveries got in is triaged: no triage job failed or is retrying', async () => {
    const stored = t.hub.db.select({ n: count() }).from(messages).get()!.n
    expect(stored).toBeGreaterThan(0)
    await waitFor(async () => (await triageBacklog(t.hub.sql)) === 0, {
      timeoutMs: 60_000,
      what: 'the triage queue drained',
    })
    // A message whose triage failed even once has a retry row.
    const troubled = t.hub.db
      .select({ status: jobs.status, attempts: jobs.attempts, error: jobs.lastError })
      .from(jobs)
      .all()
    expect(troubled).toEqual([])
  }, 90_000)

  it('the MIME parser and the reply stripper take anything without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mimeLike.map((s) => Buffer.from(s)),
          fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
        ),
        async (raw) => {
          const parsed = await parseMime(raw).catch((err: unknown) =>
            err instanceof Error ? err : new Error(String(err)),
          )
          // A body that is not mail is refused with an Error, never anything stranger.
          if (parsed instanceof Error) return
          expect(typeof parsed.text).toBe('string')
          const stripped = stripReply(parsed.text)
          expect(parsed.text).toContain(stripped.reply.split('\n')[0] ?? '')
        },
      ),
      { numRuns: SIZES.fuzzRuns * 2 },
    )
  }, 120_000)

  it('the triage decides any text without throwing, words that name JavaScript internals included', () => {
    const rulebook = loadRulebook(RULES_DIR)
    const classifier = loadClassifier(
      { corpusDir: 'data/corpus', cacheDir: 'data/model' },
      silentLogger,
    )
    // Words a lookup table keyed by plain objects would find on Object.prototype.
    const internals = Object.getOwnPropertyNames(Object.prototype).map((w) => w.toLowerCase())
    const word = fc.oneof(
      fc.constantFrom(...internals, 'prototype', 'xq', 'q', 'porfa', 'demandar', 'sue', '$800'),
      fc.string({ maxLength: 12 }),
    )
    const separator = fc.constantFrom(' ', ', ', '. ', '\n', '!!! ', ' | ')
    const texts = fc
      .array(fc.tuple(word, separator), { maxLength: 40 })
      .map((parts) => parts.map(([w, s]) => w + s).join(''))
    fc.assert(
      fc.property(texts, (text) => {
        const decision = triage({ text, channel: 'chatwoot' }, rulebook, classifier)
        expect(decision.intent).toEqual(expect.any(String))
      }),
      { numRuns: SIZES.fuzzRuns * 2 },
    )
    // The one that crashed the triage before: the message never got a decision.
    expect(
      triage({ text: 'the constructor broke my wall' }, rulebook, classifier).signals,
    ).toContain('property_damage')
  }, 120_000)

  it('bodies built to make the reply stripper backtrack finish in well under a second', () => {
    const hostile = [
      `${' '.repeat(200_000)}x`,
      `1${' '.repeat(100_000)}x:`,
      `From${'\t'.repeat(100_000)}x`,
      `${'-'.repeat(100_000)}${' '.repeat(100_000)}x`,
      `${' '.repeat(LINE_LIMIT - 1)}x\n`.repeat(3000),
      'On 1 Jan 2020\n'.repeat(50_000),
      '> a\n\nb\n'.repeat(50_000),
    ]
    for (const body of hostile) {
      const started = performance.now()
      stripReply(body)
      expect(performance.now() - started).toBeLessThan(1000)
    }
  })

  it('no regular expression that reads untrusted text backtracks catastrophically', () => {
    const rulebook = loadRulebook(RULES_DIR)
    const checked: { name: string; regex: RegExp; limit: number }[] = [
      // Reply patterns see one line (cut to LINE_LIMIT), or a header joined from three.
      ...Object.entries(REPLY_PATTERNS).map(([name, regex]) => ({ name, regex, limit: 500 })),
      ...Object.entries(ENTITY_PATTERNS).map(([name, regex]) => ({
        name,
        regex,
        limit: TRIAGE_TEXT_LIMIT,
      })),
      // Request URLs: node refuses a request line over its header limit (16 KB).
      { name: 'webhook path', regex: WEBHOOK_PATH, limit: 16_384 },
      ...rulebook.terms.patterns.map((p) => ({
        name: `rules ${p.group}.${p.target}: ${p.term}`,
        regex: p.regex,
        limit: TRIAGE_TEXT_LIMIT,
      })),
    ]
    expect(checked.length).toBeGreaterThan(20)
    const slow: string[] = []
    for (const { name, regex, limit } of checked) {
      const flags = regex.flags.replace('g', '')
      const result = checkSync(regex.source, flags, { timeout: 20_000 })
      if (result.status === 'safe') continue
      if (result.status === 'unknown') {
        slow.push(`${name}: recheck could not decide (${result.error.kind})`)
        continue
      }
      if (result.complexity.type === 'exponential') {
        slow.push(`${name}: exponential backtracking`)
        continue
      }
      // Polynomial: acceptable only while the longest text it ever sees stays fast.
      const { pumps, suffix } = result.attack
      const fixed = pumps.reduce((n, p) => n + p.prefix.length, 0) + suffix.length
      const per = pumps.reduce((n, p) => n + p.pump.length, 0)
      const times = Math.max(1, Math.floor((limit - fixed) / per))
      const attack = pumps.map((p) => p.prefix + p.pump.repeat(times)).join('') + suffix
      const started = performance.now()
      new RegExp(regex.source, flags).test(attack)
      const took = performance.now() - started
      if (took > 100) slow.push(`${name}: ${Math.round(took)} ms on ${attack.length} characters`)
    }
    expect(slow).toEqual([])
  }, 300_000)
})
