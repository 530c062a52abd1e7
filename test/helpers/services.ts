import { existsSync } from 'node:fs'
import { describe } from 'vitest'

/**
 * System services some suites need, from Debian's packages. On a machine without one, its
 * suites are skipped with a line naming the package; in CI (`CI=true`, as `.ci/run` sets) a
 * missing service fails the run instead, so CI never passes without them. The end of `npm
 * test` lists which ran (`services-reporter.ts`).
 */
export const SERVICES = {
  dovecot: {
    what: 'a real IMAP server',
    package: 'dovecot-imapd',
    paths: ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'],
  },
  chromium: {
    what: 'a headless browser',
    package: 'chromium',
    paths: [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'],
  },
  postgres: {
    what: 'a real PostgreSQL server',
    package: 'postgresql',
    paths: ['15', '16', '17', '14', '13'].map((v) => `/usr/lib/postgresql/${v}/bin/initdb`),
  },
} as const
export type ServiceId = keyof typeof SERVICES

/** Where the service's program is, or null when it is not installed. */
export function servicePath(id: ServiceId): string | null {
  return SERVICES[id].paths.find((p) => existsSync(p)) ?? null
}

/** The tag a suite's name carries, which the reporter reads. */
export const serviceTag = (id: ServiceId) => `[needs ${id}]`

/** A suite that runs against a real system service, or is skipped (never in CI) without it. */
export function describeWithService(id: ServiceId, name: string, body: () => void): void {
  const found = servicePath(id) !== null
  if (!found && process.env.CI) {
    throw new Error(
      `${id} (${SERVICES[id].what}) is required in CI: apt-get install ${SERVICES[id].package}`,
    )
  }
  describe.skipIf(!found)(`${name} ${serviceTag(id)}`, body)
}
