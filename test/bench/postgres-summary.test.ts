import { expect, it } from 'vitest'
import { type PostgresRun, postgresSummary } from './postgres.js'

// The PostgreSQL bench judges its targets on the medians of rounds that alternate one instance
// and two: a single run of each moves by tens of percent on a shared machine.
const run = (round: number, instances: number, endToEnd: number, p99: number): PostgresRun => ({
  round,
  instances,
  endToEnd,
  burst: { requests: 10_000, perSecond: 2_000, p50: 5, p99: 30, non2xx: 0 },
  steady: { requests: 5_000, perSecond: 500, p50: 3, p99, non2xx: 0 },
  hubCpuPerMessage: 700,
  databaseCpuPerMessage: 450,
  steadyHubCpuPerMessage: 1_100,
  steadyDatabaseCpuPerMessage: 950,
  worstInstanceP99: p99,
  steadyDecided: { p50: 50, p99: 120 },
})

it('judges the targets on the rounds together, not on one unlucky round', () => {
  const runs = [
    run(1, 1, 1_400, 20),
    run(1, 2, 1_200, 62),
    run(2, 1, 1_300, 18),
    run(2, 2, 1_500, 30),
    run(3, 1, 1_250, 22),
    run(3, 2, 1_350, 35),
  ]
  const [medians, rounds, targets] = postgresSummary(runs, 3)
  expect(medians).toContain('one instance 1,300 msg/s end to end, p99 20 ms')
  expect(medians).toContain('two instances 1,350 msg/s, p99 35 ms')
  // Round by round: 1,200 / 1,400, 1,500 / 1,300, 1,350 / 1,250.
  expect(rounds).toContain('0.86, 1.15, 1.08 (median 1.08; at or above one in 2 of 3)')
  expect(targets).not.toContain('NOT met')
})

it('says which target the medians miss', () => {
  const runs = [
    run(1, 1, 1_400, 20),
    run(1, 2, 1_300, 55),
    run(2, 1, 980, 21),
    run(2, 2, 1_100, 52),
  ]
  const [medians, rounds, targets] = postgresSummary(runs, 2)
  // An even count's median is the mean of the middle two.
  expect(medians).toContain('one instance 1,190 msg/s end to end, p99 21 ms')
  expect(rounds).toContain('(median 1.03; at or above one in 1 of 2)')
  expect(targets).toContain('one instance ≥ 1,000 msg/s end to end: met')
  expect(targets).toContain('two instances ≥ one: met')
  expect(targets).toContain('under 50 ms at 500 req/s, one and two instances: NOT met')
})

it("compares two instances with one within each round, where the machine's drift is shared", () => {
  // The machine slows down round after round: apart, the medians mix fast rounds with slow ones.
  const runs = [
    run(1, 1, 1_650, 13),
    run(1, 2, 1_300, 32),
    run(2, 1, 1_370, 21),
    run(2, 2, 1_610, 31),
    run(3, 1, 1_040, 48),
    run(3, 2, 1_050, 46),
  ]
  const [medians, rounds, targets] = postgresSummary(runs, 3)
  expect(medians).toContain('one instance 1,370 msg/s end to end')
  expect(medians).toContain('two instances 1,300 msg/s')
  expect(rounds).toContain('0.79, 1.18, 1.01 (median 1.01; at or above one in 2 of 3)')
  expect(targets).toContain('two instances ≥ one: met')
})
