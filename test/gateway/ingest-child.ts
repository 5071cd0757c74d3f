/** A child process for the crash test: ingests a deterministic stream into a SQLite store, printing each ack as it happens. */
import { createHash } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Ingest } from '../../gateway/ingest.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import type { IncomingMessage } from '../../gateway/store/types.js'

// argv: DB_PATH FIRST TOTAL NODES. Message i comes from node n(i % NODES) with seq floor(i / NODES); every
// 7th is an unbound (legacy) message, keyed by the digest of its "bytes". values.i says which message a row is.
const [path, first, total, nodes] = process.argv.slice(2)
const FIRST = Number(first)
const TOTAL = Number(total)
const NODES = Number(nodes)
const T0 = Date.UTC(2026, 0, 1)

export function message(i: number, nodeCount: number): IncomingMessage {
  const unbound = i % 7 === 3
  const seq = Math.floor(i / nodeCount)
  return {
    node: `n${i % nodeCount}.example`,
    seq: unbound ? null : seq,
    digest: createHash('sha256').update(`message ${i}`).digest('hex'),
    time: T0 + i * 10,
    receivedAt: T0 + i * 10 + 3,
    auth: unbound ? 'pkix-cd' : 'dnssec',
    profile: unbound ? 'valimail' : 'compact',
    bound: !unbound,
    sensor: 'pms5003-0',
    model: 'PMS5003',
    values: { i, pm25: i % 50 },
  }
}

async function main(): Promise<void> {
  const store = new SqliteStore(path as string)
  await store.open()
  const ingest = new Ingest({ store, batchSize: 16, maxDelayMs: 2, highWater: 64 })
  for (let i = FIRST; i < TOTAL; i++) {
    const ok = ingest.push(message(i, NODES), (outcome) => process.stdout.write(`${i} ${outcome}\n`))
    if (!ok) await ingest.drained()
  }
  await ingest.flush()
  await ingest.close()
  await store.close()
  process.stdout.write('done\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
