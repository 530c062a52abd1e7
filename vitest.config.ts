import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'adapters/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // The usual summary, then which suites needing a system service (dovecot, Chromium) ran.
    reporters: ['default', './test/helpers/services-reporter.ts'],
  },
})
