import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { type SmtpSink, startSmtpSink } from '../fakes/smtp-sink.js'
import { RULES_DIR, tempDir } from './hub.js'

/**
 * A copy of the shipped rulebook with some files edited (`edit` maps a file name to a
 * function of its text), for tests that need another configuration of the same rules.
 */
export function editedRules(edit: Record<string, (text: string) => string>) {
  const temp = tempDir('centralita-rules-')
  cpSync(RULES_DIR, temp.dir, { recursive: true })
  for (const [file, change] of Object.entries(edit)) {
    const path = join(temp.dir, file)
    writeFileSync(path, change(readFileSync(path, 'utf8')))
  }
  return temp
}

/**
 * The rulebook with the quality queue (complaints) working from a mailbox, and one of its
 * people (a contact of the queue) answering from her own address.
 */
export const QUALITY_MAILBOX = 'calidad@tienda.example'
export const QUALITY_STAFF = 'paula@tienda.example'
export const rulesWithQualityMailbox = () =>
  editedRules({
    'queues.yaml': (text) =>
      text
        .replace(/(\n {2}calidad:\n {4}name: [^\n]+\n)/, `$1    email: ${QUALITY_MAILBOX}\n`)
        .replace(
          'contacts: { emails: [calidad@empresa.example] }',
          `contacts: { emails: [calidad@empresa.example, ${QUALITY_STAFF}] }`,
        ),
  })

/**
 * For a suite whose mail goes out: a loopback SMTP sink and the rulebook with the quality
 * mailbox, made before its tests and closed after them.
 */
export function qualityMailSuite() {
  const suite = {} as { sink: SmtpSink; rules: ReturnType<typeof rulesWithQualityMailbox> }
  beforeAll(async () => {
    suite.sink = await startSmtpSink()
    suite.rules = rulesWithQualityMailbox()
  })
  afterAll(async () => {
    await suite.sink?.close()
    suite.rules?.cleanup()
  })
  return suite
}
