import type { IncomingMessage } from 'node:http'

export type RawBody = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' }

/**
 * Reads the exact request bytes (signatures are computed over them), refusing anything over
 * `limit` without buffering it: a declared Content-Length over the limit is refused before a
 * byte is read, and a stream that grows past it is cut off. A body whose next piece takes
 * longer than `idleMs` is given up and its connection closed.
 */
export function readRawBody(
  req: IncomingMessage,
  limit: number,
  idleMs = Number.POSITIVE_INFINITY,
): Promise<RawBody> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.resolve({ ok: false, reason: 'too_large' })
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let idle: NodeJS.Timeout | null = null
    const wait = () => {
      if (!Number.isFinite(idleMs)) return
      if (idle) clearTimeout(idle)
      idle = setTimeout(() => {
        finish({ ok: false, reason: 'aborted' })
        req.socket.destroy()
      }, idleMs)
    }
    const finish = (result: RawBody) => {
      if (settled) return
      settled = true
      if (idle) clearTimeout(idle)
      req.off('data', onData)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      wait()
      size += chunk.length
      if (size > limit) {
        // Keep draining (discarding) so the 413 can still be written to the socket.
        chunks.length = 0
        req.resume()
        finish({ ok: false, reason: 'too_large' })
        return
      }
      chunks.push(chunk)
    }
    wait()
    req.on('data', onData)
    req.once('end', () => finish({ ok: true, body: Buffer.concat(chunks, size) }))
    req.once('aborted', () => finish({ ok: false, reason: 'aborted' }))
    req.once('error', () => finish({ ok: false, reason: 'aborted' }))
  })
}
