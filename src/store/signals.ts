import pg from 'pg'
import type { Logger } from '../kit/logger.js'

/** What one instance tells the others on a shared PostgreSQL. */
export type Topic = 'triage' | 'outbox' | 'cases'
const TOPICS: readonly Topic[] = ['triage', 'outbox', 'cases']
const CHANNEL = 'centralita'

/**
 * Instances on one PostgreSQL wake each other with LISTEN/NOTIFY instead of polling fast: new
 * messages to triage, effects to run, cases whose deadlines changed. A notice is a hint (the
 * work itself is in the tables), so one lost while a connection is down only waits for the
 * safety poll. Notices of a topic are sent at most once per `coalesceMs`, all topics due
 * together in one statement. An instance does not act on its own notices (PostgreSQL delivers
 * them to its listener too): whoever notifies has woken its own loops already, and a second
 * wake would cost each triage lane a claim that finds nothing.
 */
export type Signals = {
  notify(topic: Topic): void
  close(): Promise<void>
}

export function postgresSignals(options: {
  url: string
  pool: pg.Pool
  logger: Logger
  onNotice: (topic: Topic) => void
  coalesceMs?: number
}): Signals {
  const coalesceMs = options.coalesceMs ?? 50
  const pending = new Set<Topic>()
  let timer: NodeJS.Timeout | null = null
  let closed = false
  let listener: pg.Client | null = null

  // The server processes (backends) of this instance's connections that sent notices: a
  // notice from one of them is this instance's own. A connection the pool drops leaves.
  const ours = new Set<number>()
  const backendOf = (client: pg.PoolClient) => (client as { processID?: number }).processID
  options.pool.on('remove', (client) => ours.delete(backendOf(client) ?? -1))

  const send = async (topics: readonly Topic[]) => {
    const client = await options.pool.connect()
    try {
      const backend = backendOf(client)
      if (backend) ours.add(backend)
      await client.query(`select ${topics.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ')}`, [
        CHANNEL,
        ...topics,
      ])
    } finally {
      client.release()
    }
  }
  const flush = () => {
    timer = null
    const topics = [...pending]
    pending.clear()
    send(topics).catch((err: unknown) =>
      options.logger.warn({ err }, 'could not notify the instances'),
    )
  }

  const listen = async (attempt = 0): Promise<void> => {
    if (closed) return
    const client = new pg.Client({ connectionString: options.url })
    client.on('notification', (message) => {
      const topic = message.payload as Topic
      if (TOPICS.includes(topic) && !ours.has(message.processId)) options.onNotice(topic)
    })
    // A dropped connection listens again, after a pause that grows up to 10 s.
    client.on('error', () => {})
    client.on('end', () => {
      if (listener === client) listener = null
      if (!closed) setTimeout(() => void listen(attempt + 1), Math.min(10_000, 250 * 2 ** attempt))
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANNEL}`)
      listener = client
      // Whatever was said while this instance was not listening: look now.
      if (attempt > 0) for (const topic of TOPICS) options.onNotice(topic)
    } catch (err) {
      options.logger.warn({ err }, 'could not listen for the other instances')
      await client.end().catch(() => {})
    }
  }
  void listen()

  return {
    notify(topic) {
      if (closed) return
      pending.add(topic)
      timer ??= setTimeout(flush, coalesceMs)
    },
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await listener?.end().catch(() => {})
    },
  }
}
