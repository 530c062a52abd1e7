import { expect, it } from 'vitest'
import { holdTransaction } from '../../test/helpers/hold.js'
import { postgresForSuite } from '../../test/helpers/postgres.js'
import { describeWithService } from '../../test/helpers/services.js'
import { migratePostgres, openPostgres } from './postgres.js'
import { nextTicketNumber } from './triage-store.js'

// On PostgreSQL triage slices run side by side (`triage-queue.ts`): a ticket's number is
// counted on a connection of its own, committed at once, so that a slice that opened a ticket
// does not hold every other one's until it commits.

const NOW = new Date('2026-11-21T12:00:00Z')

describeWithService('postgres', 'ticket numbers on PostgreSQL', () => {
  const postgres = postgresForSuite()

  it('numbers tickets without holding other slices until it commits', async () => {
    const pg = openPostgres(postgres.database(), { max: 6 })
    let first: ReturnType<typeof holdTransaction<string>> | null = null
    try {
      await migratePostgres(pg.sql)
      const at = NOW.getTime()
      // One slice numbered a ticket and has not committed…
      first = holdTransaction(pg.sql, (tx) => nextTicketNumber(tx, 2026, at))
      expect(await first.result).toBe('TK-2026-000001')
      // …another one numbers its own at once, the next number.
      const second = await Promise.race([
        pg.sql.transaction((tx) => nextTicketNumber(tx, 2026, at)),
        new Promise<string>((resolve) => setTimeout(() => resolve('waited'), 3000)),
      ])
      expect(second).toBe('TK-2026-000002')
      first.release()
      await first.done
    } finally {
      first?.release()
      await pg.close()
    }
  }, 60_000)
})
