import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RULES_DIR } from '../../test/helpers/hub.js'
import { storedDelivery } from '../../test/helpers/stored-delivery.js'
import type { ChannelEntry } from '../contracts/channel.js'
import { settleForPlan } from '../pipeline/settle.js'
import { closeDatabase, type Db, openDatabase, sqlOf } from '../store/db.js'
import { persistDelivery } from '../store/ingest-store.js'
import { loadTriageSubject, type TriageSubject } from '../store/triage-store.js'
import { loadRulebook } from '../triage/rulebook/compile.js'
import { type Decision, triage } from '../triage/triage.js'
import { planEffects, type ReplyHistory } from './plan.js'

const NOW = new Date('2026-11-20T15:00:00Z')
const rulebook = loadRulebook(RULES_DIR)

// A channel that can answer: the plan's reply goes through its adapter.
const channels = new Map<string, ChannelEntry>([
  [
    'chatwoot',
    {
      adapter: {
        id: 'chatwoot',
        planReply: (request: { key: string; text: string }) => ({
          kind: 'chatwoot.message',
          key: request.key,
          subject: 'test',
          payload: { text: request.text },
        }),
      },
      settings: { config: {} },
    } as never,
  ],
])

describe('the reply caps', () => {
  let db: Db
  let subject: TriageSubject
  beforeEach(async () => {
    db = openDatabase(':memory:')
    const sql = sqlOf(db)
    const stored = await persistDelivery(
      sql,
      storedDelivery('d-1', '1:1', '¿A qué hora abren?'),
      NOW,
    )
    subject = (await loadTriageSubject(
      sql,
      stored.outcome === 'stored' ? stored.messageIds[0]! : 0,
    ))!
  })
  afterEach(() => closeDatabase(db))

  const counting = (history: ReplyHistory) => {
    const read = Object.assign(
      () => {
        read.count++
        return history
      },
      { count: 0 },
    )
    return read
  }
  const quiet: ReplyHistory = {
    automaticToConversation: 0,
    automaticToRecipient: 0,
    onceADay: () => new Set(),
    lastAgentReplyAt: null,
  }
  const plan = (decision: Decision, history: () => ReplyHistory) =>
    planEffects({
      decision,
      subject,
      ticket: null,
      rulebook,
      channels,
      tools: { email: null },
      now: NOW,
      history,
    })
  const acknowledged = (): Decision => ({
    ...triage({ text: subject.message.text, channel: 'chatwoot' }, rulebook, null),
    reply: { kind: 'ack' },
  })

  it('are read only for a decision with a reply', () => {
    const history = counting(quiet)
    plan({ ...acknowledged(), reply: null }, history)
    expect(history.count).toBe(0)
    const planned = plan(acknowledged(), history)
    expect(history.count).toBeGreaterThan(0)
    expect(planned.replySent).toEqual({ kind: 'ack' })
  })

  it('stop the reply when the conversation had its share of automatic messages', () => {
    const caps = rulebook.settings.automatic_replies
    const history = counting({ ...quiet, automaticToConversation: caps.per_conversation })
    const planned = plan(acknowledged(), history)
    expect(planned.replySent).toBeNull()
    expect(planned.notes.join(' ')).toMatch(/automatic messages already went to this conversation/)
    // Nobody answers the customer now: a person must take the conversation.
    const settled = settleForPlan(
      { subject, rulebook, channels, tools: { email: null }, now: NOW, history },
      acknowledged(),
      null,
      () => true,
    )
    expect(settled.outcome.branch).toBe('person')
    expect(settled.outcome.reason).toMatch(/automatic messages already went to this conversation/)
    expect(settled.decision).toMatchObject({ reply: null, queue: 'general', ticket: 'consulta' })
  })
})
