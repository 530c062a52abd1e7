import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ADAPTERS } from '../../adapters/registry.js'
import { defineAdapter } from '../../src/contracts/channel.js'
import { ConfigError } from '../../src/contracts/errors.js'
import { loadRulebook } from '../../src/triage/rulebook/compile.js'
import { deliver, payloads, SECRETS } from '../helpers/deliveries.js'
import { settled, testHub } from '../helpers/hub.js'
import { editedRules } from '../helpers/rules.js'
import { waitFor } from '../helpers/wait.js'

// A staff inbox the core has never heard of: "helpdesk", a made-up tool where the legal team
// works. It is one adapter (what its folder would hold) added to the channel list (what its
// registry line would do), and its settings in the rulebook. The hub hands it the legal
// conversations it routes, as it does Chatwoot, without a line of the core knowing it.

type Opened = {
  desk: string | null
  labels: string[]
  priority: unknown
  note: string
  conversation: number
}

function helpdeskAdapter(opened: Opened[]) {
  const Desk = z.object({ desk: z.string().min(1) }).strict()
  return defineAdapter({
    id: 'helpdesk',
    env: { HELPDESK_TOKEN: z.string().min(8).optional() },
    configure: (env) => ({
      config: { token: env.HELPDESK_TOKEN ?? null },
      inbound: { enabled: false, reason: 'the helpdesk only receives' },
    }),
    body: 'json',
    outboundOnly: true,
    checkHead: () => ({ ok: false, reason: 'no inbound' }),
    verify: () => ({ ok: false, reason: 'no inbound' }),
    parse: () => ({ kind: 'invalid', reason: 'no inbound' }),
    inbox: {
      queueSettings: Desk,
      prioritySettings: z.enum(['p1', 'p2', 'p3']),
      planHandoff(handoff, config) {
        if (!config.token) return { effects: [], notes: ['helpdesk not configured'] }
        const desk = Desk.safeParse(handoff.queue?.settings)
        return {
          effects: [
            {
              kind: 'helpdesk.open',
              key: `${handoff.keyPrefix}:helpdesk`,
              subject: handoff.subject,
              payload: {
                desk: desk.success ? desk.data.desk : null,
                labels: handoff.labels,
                priority: handoff.priority.settings,
                note: handoff.note,
                conversation: handoff.conversation.id,
              },
            },
          ],
          notes: [],
        }
      },
      queuesOfTeam: () => [],
    },
    executors: () =>
      new Map([
        [
          'helpdesk.open',
          async (run) => {
            opened.push(run.payload as Opened)
            return { opened: true }
          },
        ],
      ]),
  })
}

const withHelpdesk = (desk: string) =>
  editedRules({
    'queues.yaml': (text) =>
      text.replace(
        'inbox: { chatwoot: { team: legal } }',
        `inbox: { chatwoot: { team: legal }, helpdesk: ${desk} }`,
      ),
    'priorities.yaml': (text) =>
      text.replace('inbox: { chatwoot: urgent }', 'inbox: { chatwoot: urgent, helpdesk: p1 }'),
  })

describe('a staff inbox the core has never heard of', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('gets the conversations routed to its queue, with the decision, like Chatwoot', async () => {
    const rules = withHelpdesk('{ desk: juridico }')
    cleanups.push(rules.cleanup)
    const opened: Opened[] = []
    const t = testHub(
      {
        RULES_DIR: rules.dir,
        CHATWOOT_WEBHOOK_SECRET: SECRETS.chatwoot,
        HELPDESK_TOKEN: 'helpdesk-token-1',
      },
      { adapters: [...ADAPTERS, helpdeskAdapter(opened)] },
    )
    cleanups.push(t.close)
    const { port } = await t.hub.listen()
    const res = await deliver(`http://127.0.0.1:${port}`).chatwoot(
      payloads.chatwoot(501, 77, 'Los voy a demandar por el auto rayado', { id: 9, name: 'Ana' }),
      'helpdesk-1',
    )
    expect(res.status).toBe(200)
    await waitFor(() => opened.length > 0, { what: 'the helpdesk to get the conversation' })
    await settled(t.hub)
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({ desk: 'juridico', priority: 'p1' })
    expect(opened[0]!.labels).toEqual(expect.arrayContaining(['legal', 'critica', 'L3']))
    expect(opened[0]!.note).toMatch(/Amenaza legal|legal/i)
  })

  it('checks its settings in the rulebook, and a rulebook naming an inbox the hub lacks is refused', () => {
    const bad = withHelpdesk('{ desk: 42 }')
    cleanups.push(bad.cleanup)
    const schemas = new Map([
      ['helpdesk', { queue: helpdeskAdapter([]).inbox!.queueSettings, priority: z.string() }],
    ])
    expect(() => loadRulebook(bad.dir, schemas)).toThrow(
      /queues\.yaml:\d+ queues\.legal\.inbox\.helpdesk\.desk: /,
    )
    const good = withHelpdesk('{ desk: juridico }')
    cleanups.push(good.cleanup)
    expect(() => loadRulebook(good.dir, new Map())).toThrow(ConfigError)
    expect(() => loadRulebook(good.dir, new Map())).toThrow(
      /queues\.legal\.inbox\.helpdesk: no staff inbox "helpdesk"/,
    )
  })
})
