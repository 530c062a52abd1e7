import { beforeEach, describe, expect, it } from 'vitest'
import type { TestDb } from '../../test/helpers/decided.js'
import { applyEvents, decidedMessage, tempDatabases } from '../../test/helpers/decided.js'
import type { ChannelEvent } from '../contracts/message.js'
import type { FeedbackContext } from './channel-feedback.js'
import { listCorrections } from './corrections.js'

// A person's change of labels or team in Chatwoot, read as a correction of the hub's decision;
// the hub's own labels and teams, echoed back by Chatwoot, are not.

const teams: FeedbackContext = {
  queuesOfTeam: (_channel, team) =>
    team.id === 1 ? ['atencion'] : team.id === 2 ? ['pagos'] : team.id === 3 ? ['a', 'b'] : [],
}

const feedback = (
  conversation: string,
  change: Partial<Pick<Extract<ChannelEvent, { type: 'triage_feedback' }>, 'labels' | 'team'>> & {
    hubConversationId?: number
  },
): ChannelEvent => ({
  type: 'triage_feedback',
  channel: 'chatwoot',
  conversationExternalId: conversation,
  actor: 'chatwoot: Paula',
  at: new Date().toISOString(),
  ...change,
})

describe('corrections from Chatwoot', () => {
  const database = tempDatabases()
  let db: TestDb
  beforeEach(() => {
    db = database()
  })

  it('the hub’s own labels and team coming back are not a correction', async () => {
    await decidedMessage(db, 'me cobraron dos veces', {
      intent: 'payment',
      priority: 'alta',
      level: 'L1',
      queue: 'pagos',
      conversation: '1:50',
    })
    await applyEvents(
      db,
      [
        feedback('1:50', {
          labels: { added: ['payment', 'alta', 'l1'], removed: [] },
          team: { id: 2, name: 'Pagos' },
        }),
      ],
      teams,
    )
    expect(await listCorrections(db)).toEqual([])
  })

  it('an intent label a person adds is the intent; a team of another queue is the queue', async () => {
    const { decisionId } = await decidedMessage(db, 'el lavado dejó manchas y nadie responde', {
      intent: 'other',
      queue: 'atencion',
      conversation: '1:51',
    })
    await applyEvents(
      db,
      [
        feedback('1:51', {
          labels: { added: ['complaint', 'vip'], removed: ['other'] },
          team: { id: 2, name: 'Pagos' },
        }),
      ],
      teams,
    )
    const [c] = await listCorrections(db)
    expect(c).toMatchObject({
      decisionId,
      source: 'chatwoot',
      actor: 'chatwoot: Paula',
      text: 'el lavado dejó manchas y nadie responde',
      decided: { intent: 'other', queue: 'atencion' },
      corrected: { intent: 'complaint', queue: 'pagos' },
    })
  })

  it('signal labels taken off or added change the signals', async () => {
    await decidedMessage(db, 'los voy a demandar', {
      intent: 'legal',
      signals: ['legal_threat', 'media_threat'],
      conversation: '1:52',
    })
    await applyEvents(db, [feedback('1:52', { labels: { added: [], removed: ['media_threat'] } })])
    await applyEvents(db, [feedback('1:52', { labels: { added: ['injury'], removed: [] } })])
    expect((await listCorrections(db)).map((c) => c.corrected)).toEqual([
      { signals: ['injury', 'legal_threat'] },
      { signals: ['legal_threat'] },
    ])
  })

  it('says nothing when it cannot tell: two intents, a team of several queues, no decision', async () => {
    await decidedMessage(db, 'hola', { intent: 'other', queue: 'atencion', conversation: '1:53' })
    await applyEvents(
      db,
      [
        feedback('1:53', {
          labels: { added: ['complaint', 'payment'], removed: [] },
          team: { id: 3, name: 'Mixto' },
        }),
        feedback('1:999', { labels: { added: ['complaint'], removed: [] } }),
      ],
      teams,
    )
    expect(await listCorrections(db)).toEqual([])
  })

  it('a conversation the hub mirrored into Chatwoot corrects the hub’s own conversation', async () => {
    const { decisionId, conversationId } = await decidedMessage(db, 'quiero una cotización', {
      intent: 'sales',
      conversation: 'email-thread-7',
    })
    await applyEvents(db, [
      feedback('1:77', {
        hubConversationId: conversationId,
        labels: { added: ['quote'], removed: ['sales'] },
      }),
    ])
    expect(await listCorrections(db)).toMatchObject([
      { decisionId, corrected: { intent: 'quote' } },
    ])
  })
})
