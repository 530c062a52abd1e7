import { backoffDelay } from '../kit/backoff.js'
import { type Loop, startLoop } from '../kit/loop.js'
import {
  type PipelineDeps,
  processMessage,
  type SliceContext,
} from '../pipeline/process-message.js'
import { replyWindows } from '../pipeline/reply-history.js'
import type { Sql } from '../store/sql.js'
import { TRIAGE_PARTS } from '../store/triage-parts.js'
import {
  type ClaimedPart,
  claimTriagePart,
  type QueuedMessage,
  readCursor,
  type TriageQueueSlice,
  triageQueueSlice,
} from '../store/triage-queue.js'
import { stillFresh, type UndecidedMessage } from '../store/triage-reads.js'
import { decisionsAtOnce, heldDecisions } from '../store/triage-store.js'
import type { TextInput } from '../triage/triage.js'
import type { TextAnalyses } from './text-analysis.js'

export type TriageWorkerDeps = PipelineDeps & {
  db: Sql
  batchSize?: number
  /** Longest stretch (ms) the worker holds the database before letting webhooks commit. */
  sliceMs?: number
  /**
   * How long after a slice that drained its part with fewer messages than a read (or found no
   * part with work) the lane waits before the next one (PostgreSQL): a slice costs a claim, a
   * transaction and a cursor write however few messages it triages, and at a steady pace each
   * would triage the one message that woke it. A burst's slices never wait.
   */
  gatherMs?: number
  /** Safety poll for jobs whose retry time came (new jobs wake the worker directly). */
  pollMs?: number
  /**
   * Whether webhook deliveries wait for their commit: a slice then lets that commit (and the
   * acknowledgements) go first, for at most `yieldMs` in a row.
   */
  acknowledgementsWaiting?: () => boolean
  yieldMs?: number
  /**
   * Text analyses worked out on another thread, when the hub runs one: ahead of the cursor on
   * SQLite, a read at a time on PostgreSQL.
   */
  analyses?: TextAnalyses
  /** Settles when the classifier is read: nothing is triaged before. */
  ready?: Promise<void>
  /**
   * Slices run side by side, each on a part of the queue (PostgreSQL; SQLite's queue is one,
   * and so is its writer).
   */
  lanes?: number
}

const MAX_ATTEMPTS = 5

/** SQLite's slices: webhooks wait for the slice's end to commit, so it is kept this short. */
const SHORT_SLICE_MS = 2

/**
 * A slice's statements run on their kept plans (PostgreSQL): its claim and reads, planned for
 * their values, each cost 1–5 ms of planning, and were planned so on every connection's first
 * five runs and, while a plan for the values looked cheaper, at up to half of the calls.
 */
const KEPT_PLANS = { keptPlans: true } as const

/** Messages read from the queue at a time within a slice. */
const READ_AHEAD = 8

/**
 * Triages one message. `isolated`: in a savepoint of the slice, so that a failure rolls back
 * that message alone and schedules another try. Otherwise a failure fails the slice, which the
 * worker then runs again isolated.
 */
async function triageOne(
  deps: TriageWorkerDeps,
  tx: Sql,
  queue: TriageQueueSlice,
  item: QueuedMessage,
  now: Date,
  slice: SliceContext,
  isolated: boolean,
): Promise<'done' | 'relayed' | 'missing' | 'failed'> {
  if (!isolated) {
    const outcome = await processMessage(deps, tx, item.messageId, slice)
    await queue.done(item)
    return outcome
  }
  try {
    const outcome = await tx.transaction((own) => processMessage(deps, own, item.messageId, slice))
    await queue.done(item)
    return outcome
  } catch (err) {
    const attempt = (item.retry?.attempts ?? 0) + 1
    deps.logger.error({ err, messageId: item.messageId, attempt }, 'triage failed')
    await queue.failed(
      item,
      err instanceof Error ? err.message : String(err),
      attempt < MAX_ATTEMPTS
        ? new Date(now.getTime() + backoffDelay(attempt, { baseMs: 1000, maxMs: 60_000 }))
        : null,
    )
    return 'failed'
  }
}

/**
 * Drains triage jobs: woken on every stored message, polling only as a safety net. On
 * PostgreSQL `lanes` loops run side by side, each slice on a part of the queue it claimed.
 */
export function createTriageWorker(deps: TriageWorkerDeps): Loop {
  const lanes = deps.db.dialect === 'postgres' ? Math.max(1, deps.lanes ?? 1) : 1
  const loops = Array.from({ length: lanes }, (_, lane) => createLane(deps, lane))
  if (loops.length === 1) return loops[0]!
  return {
    wake: () => {
      for (const loop of loops) loop.wake()
    },
    wakeAt: (at) => {
      for (const loop of loops) loop.wakeAt(at)
    },
    stop: async () => {
      await Promise.all(loops.map((loop) => loop.stop()))
    },
    get running() {
      return loops.every((loop) => loop.running)
    },
  }
}

function createLane(deps: TriageWorkerDeps, lane: number): Loop {
  const batchSize = deps.batchSize ?? 256
  const sliceMs = deps.sliceMs ?? SHORT_SLICE_MS
  const yieldMs = deps.yieldMs ?? 10
  const gatherMs = deps.db.dialect === 'postgres' ? (deps.gatherMs ?? 0) : 0
  let lastSlice = 0
  // Whether the lane's last slice found its part drained after fewer messages than a read,
  // or no part with work at all: messages are trickling in (`gatherMs`).
  let trickle = false
  // Where the last slice left the cursor: on SQLite this worker alone moves it (and a stale
  // value would only ask the analysis thread for messages already triaged).
  let cursor: number | null = null
  // Where the lane's claims begin, one part further each slice: lanes and instances start at
  // different parts, and every part with work has its turn.
  let turn = lane * Math.floor(TRIAGE_PARTS / 2) + Math.floor(Math.random() * TRIAGE_PARTS)
  return startLoop({
    name: lane === 0 ? 'triage' : `triage-${lane}`,
    logger: deps.logger,
    pollMs: deps.pollMs ?? 1000,
    runOnce: async () => {
      await deps.ready
      // Messages are trickling in: more come in the meantime (they wake the loop, which runs
      // once this wait ends), and the next slice triages them together.
      const gathering = trickle ? lastSlice + gatherMs - performance.now() : 0
      if (gathering > 0) await new Promise((resolve) => setTimeout(resolve, gathering))
      const started = performance.now()
      // A slice and the webhooks' group commit are both immediates, run in the order queued:
      // this slice (queued as the last one ended) before the commit of the deliveries read
      // since, whose senders would wait a whole slice for their answer. The commit goes first,
      // unless triage has waited `yieldMs` already (under a steady flood it keeps its share).
      if (deps.acknowledgementsWaiting?.() && started - lastSlice < yieldMs) return 'more'
      // A lane past the first leaves the database to them as long as any wait: where the
      // database shares the hub's cores, acknowledgements come first, and the lane triages
      // beside the first one once they are answered (every stored message wakes it).
      if (lane > 0 && deps.acknowledgementsWaiting?.()) return 'idle'
      const now = deps.clock.now()
      const rulebook = deps.rulebook()
      const classifier = deps.classifier()
      // On SQLite the analyses are asked for before the slice holds the database. (On
      // PostgreSQL lanes take parts from each other: a slice asks for those of what it read.)
      const local = deps.db.dialect === 'sqlite'
      if (local && deps.analyses)
        await deps.analyses.prefetch(deps.db, cursor ?? (await readCursor(deps.db)), rulebook)
      else deps.analyses?.useRules(rulebook)
      let more = false
      let drained = true
      // One commit for a whole slice: each message's transaction is a savepoint inside it, so a
      // message that fails rolls back alone. A slice ends after `sliceMs` (or `batchSize`
      // messages), so webhooks waiting on the event loop are answered between slices. A
      // savepoint is two more statements a message (on PostgreSQL, round trips): a slice runs
      // first without them, and only if a message fails, again with them (its work is database
      // work, wake-ups, counts and log lines, like a transaction PostgreSQL aborts and runs
      // again: at worst a count or a log line of the failed try is repeated).
      let claimed: ClaimedPart | null = null
      // The reads count what the reply caps count (PostgreSQL), as a message's triage would.
      const windows = replyWindows(rulebook, now)
      const slice = (isolated: boolean) =>
        deps.db.transaction(async (tx) => {
          more = false
          const begun = performance.now()
          // On PostgreSQL the slice claims a part of the queue no other slice (of this instance
          // or another) holds, the first with work from the lane's turn on (after a failure,
          // the failed part, to run it again message by message). None free: the slices at
          // work are woken by every stored message, as this one is. The claim reads the part too.
          if (!local) {
            claimed = await claimTriagePart(
              tx,
              now,
              isolated && claimed ? claimed.part : turn++,
              windows,
            )
            if (!claimed) return
          }
          // A slice triages a handful of messages: read the queue a few at a time.
          const queue = await triageQueueSlice(tx, now, claimed ?? undefined, windows)
          // Decisions are written a read's worth at a time (PostgreSQL), unless each message
          // has a savepoint of its own, which a failure rolls back alone.
          const decisions = isolated ? decisionsAtOnce : heldDecisions()
          let done = 0
          read: while (done < batchSize) {
            // The held decisions go before a read that may look for them (none when the queue
            // has nothing more to read: they go with the cursor, below).
            if (!queue.exhausted) await decisions.flush(tx)
            const due = await queue.next(Math.min(READ_AHEAD, batchSize - done))
            if (due.length === 0) break
            // The thread analyses the read's texts while the slice triages its first messages.
            if (!local) deps.analyses?.analyse(textsOf(due), rulebook)
            // The messages of this read triaged so far: a later one of the same conversation
            // or contact reads its context again (they changed it).
            const before: UndecidedMessage[] = []
            // A person's answer relayed to a customer wrote to the customer's conversation: the
            // rest of the read is read again.
            let relayed = false
            for (const item of due) {
              // A slice triages at least one message. A long one (PostgreSQL's) also ends when
              // deliveries wait for their commit, once it triaged a read's worth: the
              // acknowledgements go first (they commit beside the slice, on the same CPU), but
              // a slice costs a handful of statements of its own, paid for by its messages.
              if (
                done > 0 &&
                (performance.now() - begun >= sliceMs ||
                  (sliceMs > SHORT_SLICE_MS &&
                    done >= READ_AHEAD &&
                    deps.acknowledgementsWaiting?.()))
              ) {
                more = true
                break read
              }
              // The analysis thread's answer for a new message. On SQLite, while it works on
              // it, the slice ends here and the answer wakes the worker; on PostgreSQL the
              // slice holds its part and waits for it (the thread is a read ahead).
              const ahead =
                item.retry !== null
                  ? undefined
                  : local
                    ? deps.analyses?.take(item.messageId, rulebook, classifier)
                    : await deps.analyses?.awaitAnalysis(item.messageId, rulebook, classifier)
              if (ahead === 'waiting') break read
              const fresh =
                item.found === null || (item.found && !relayed && stillFresh(item.found, before))
              // Read again, after the decisions it may find are written.
              if (!fresh) await decisions.flush(tx)
              const found = fresh ? item.found : undefined
              const outcome = await triageOne(
                deps,
                tx,
                queue,
                item,
                now,
                { analysis: ahead, found, decisions },
                isolated,
              )
              if (outcome === 'relayed') relayed = true
              if (item.found) before.push(item.found)
              done++
            }
          }
          // The last decisions and the moved cursor: one statement on PostgreSQL.
          await decisions.flush(tx, queue.closing())
          drained = queue.exhausted && done < READ_AHEAD
          // Other parts may have work: a lane that triaged claims again, until it finds none.
          if (done >= batchSize || (claimed && done > 0)) more = true
          return queue.cursor
        }, KEPT_PLANS)
      const moved = await slice(false).catch(() => slice(true))
      if (local && moved !== undefined) cursor = moved
      lastSlice = performance.now()
      trickle = drained
      return more ? 'more' : 'idle'
    },
  })
}

/** The texts of a read's new messages from customers, for the analysis thread. */
function textsOf(due: readonly QueuedMessage[]) {
  return due.flatMap(({ messageId, retry, found }) => {
    const message = found?.subject.message
    if (retry !== null || !message || message.direction !== 'inbound') return []
    const { text, subject, language } = message
    return [{ id: messageId, text, subject, language: language as TextInput['language'] }]
  })
}
