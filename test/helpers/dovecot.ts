import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { tempDir } from './hub.js'
import { freePort } from './process.js'
import { servicePath } from './services.js'
import { waitFor } from './wait.js'

export const DOVECOT = servicePath('dovecot')

const idOf = (flag: '-u' | '-g', user: string) =>
  Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())

/**
 * A real IMAP server: Debian's dovecot-imapd, started on a loopback port with a throwaway
 * configuration, one user (plain-text password, no TLS) and a Maildir in a temporary directory.
 * As root it runs its processes as the `dovecot` user; otherwise as the current user.
 */
export async function startDovecot(user = 'centralita', password = 'imap-test-password') {
  if (!DOVECOT) throw new Error('dovecot is not installed (apt-get install dovecot-imapd)')
  const temp = tempDir('centralita-dovecot-')
  chmodSync(temp.dir, 0o755)
  const root = process.getuid?.() === 0
  const runAs = root ? 'dovecot' : execFileSync('id', ['-un'], { encoding: 'utf8' }).trim()
  const uid = idOf('-u', runAs)
  const gid = idOf('-g', runAs)
  const home = join(temp.dir, 'home')
  for (const dir of [join(temp.dir, 'run'), join(temp.dir, 'state'), home])
    mkdirSync(dir, { recursive: true })
  if (root) chownSync(home, uid, gid)
  writeFileSync(join(temp.dir, 'users'), `${user}:{PLAIN}${password}\n`)
  const port = await freePort()
  const conf = join(temp.dir, 'dovecot.conf')
  writeFileSync(
    conf,
    `first_valid_uid = 1
base_dir = ${temp.dir}/run
state_dir = ${temp.dir}/state
log_path = ${temp.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${root ? 'dovecot' : runAs}
default_internal_group = ${root ? 'dovecot' : runAs}
default_login_user = ${root ? 'dovenull' : runAs}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${temp.dir}/users
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${home}/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`,
  )
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', conf], { stdio: 'ignore' })
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        socket.once('data', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
      }),
    { timeoutMs: 10_000, intervalMs: 100, what: 'dovecot to listen' },
  )
  return {
    port,
    user,
    password,
    url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      temp.cleanup()
    },
  }
}
