import { createServer } from 'node:http'
import express from 'express'

// The bench's baseline, run in its own process as the hub is (in the load generator's process
// it would share an event loop with autocannon and look slower than it is): a bare express
// endpoint doing the least a webhook must, read the body and answer 200.
const app = express()
app.post('/webhooks/:channel', express.raw({ type: '*/*', limit: '1mb' }), (_req, res) => {
  res.json({ ok: true })
})
const port = Number(process.argv[2])
createServer(app).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'))
