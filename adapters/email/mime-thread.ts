import { parentPort } from 'node:worker_threads'
import { type HtmlMode, type ParsedMail, parseMime } from './parse-mime.js'

// The MIME thread (started by `parse-pool.ts`): it parses one message at a time and answers
// with the parsed mail or why the bytes are not one. It reads and writes nothing else.

export type MimeRequest = { id: number; raw: Uint8Array; html: HtmlMode }
export type MimeAnswer =
  | { id: number; mail: Omit<ParsedMail, 'headers'> & { headers: [string, string[]][] } }
  | { id: number; error: string }

parentPort!.on('message', async (request: MimeRequest) => {
  let answer: MimeAnswer
  try {
    const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength)
    const mail = await parseMime(raw, request.html)
    answer = { id: request.id, mail: { ...mail, headers: [...mail.headers] } }
  } catch (err) {
    answer = { id: request.id, error: (err as Error).message.slice(0, 200) }
  }
  parentPort!.postMessage(answer)
})
