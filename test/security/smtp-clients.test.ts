import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { testHub } from '../helpers/hub.js'
import { freePort } from '../helpers/process.js'

// Security review, low: the SMTP receiver had no maxClients.

/** Connects and resolves with the server's first line. */
function greeting(port: number) {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const line = new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\r\n')[0]!)),
  )
  return { socket, line }
}

describe('SMTP receiver', () => {
  it('serves SMTP_MAX_CLIENTS clients at once and tells the next one to come back', async () => {
    const port = await freePort()
    const t = testHub({
      SMTP_LISTEN_PORT: String(port),
      SMTP_LISTEN_HOST: '127.0.0.1',
      EMAIL_FROM: 'soporte@tienda.example',
      SMTP_MAX_CLIENTS: '3',
    })
    await t.hub.listen()
    const clients = [greeting(port), greeting(port), greeting(port)]
    try {
      for (const c of clients) expect(await c.line).toMatch(/^220 /)
      const extra = greeting(port)
      clients.push(extra)
      expect(await extra.line).toMatch(/^421 .*Too many connected clients/)
    } finally {
      for (const c of clients) c.socket.destroy()
      await t.close()
    }
  })
})
