import { expect, it } from 'vitest'
import { benchClassify } from './classify.js'

// `npm run bench` loads the build by paths of its own, which the typecheck does not follow:
// this runs the classification bench, small, on the build `npm test` makes first.
it('runs the classification bench on the build', async () => {
  const r = await benchClassify({ messages: 2_000 })
  expect(r.messages).toBe(2_000)
  expect(r.distinctTexts).toBeGreaterThan(1_000)
  expect(r.perSecond).toBeGreaterThan(0)
  expect(r.p99us).toBeGreaterThanOrEqual(r.p50us)
}, 60_000)
