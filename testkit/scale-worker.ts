/** A gateway worker for the scale tests: AMQP source → real opener → group-commit ingest → PostgreSQL store, counts on stdout. */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Ingest } from '../gateway/ingest.js'
import { AmqpSource } from '../gateway/source-amqp.js'
import { PostgresStore } from '../gateway/store/postgres.js'
import type { IncomingMessage } from '../gateway/store/types.js'
import { systemClock } from '../src/clock.js'
import { nodeProvider } from '../src/crypto/node.js'
import { isDaneelError } from '../src/errors.js'
import { RESERVED_CLAIMS } from '../src/message/claims.js'
import { createOpener, type OpenedMessage } from '../src/message/open.js'
import { createReplayWindow } from '../src/message/replay.js'

/**
 * Stands in for `daneel gateway --source amqp://… --store postgres://…` until that command is wired: the same
 * parts (AmqpSource, a real opener with trust from a table of sender keys, Ingest, PostgresStore) in one
 * process. argv: FLEET_JSON PG_URL AMQP_URLS (comma-separated). FLEET_JSON (written by `writeFleet`) holds the
 * recipient's name and PKCS#8 key and each sender's name and SPKI. Prints `count stored=N duplicate=M
 * refused=R` every 200 ms and at exit, and `ready` once consuming.
 */
export interface FleetFile {
  recipient: string
  recipientKeyPem: string
  senders: { name: string; spki: string }[]
}

const RESERVED = new Set(RESERVED_CLAIMS)

/** The store's view of an opened reading: `sensor`/`model` members and every other numeric member as a value. */
export function toIncoming(o: OpenedMessage, digest: string, receivedAt: number): IncomingMessage {
  const c = o.claims ?? {}
  const values: Record<string, number> = {}
  for (const [k, v] of Object.entries(c)) if (!RESERVED.has(k) && typeof v === 'number' && Number.isFinite(v)) values[k] = v
  const seq = typeof c.seq === 'number' ? c.seq : null
  return {
    node: o.from,
    seq,
    digest,
    time: typeof c.iat === 'number' ? c.iat * 1000 : receivedAt,
    receivedAt,
    auth: o.auth,
    profile: o.profile,
    bound: seq !== null,
    sensor: typeof c.sensor === 'string' ? c.sensor : null,
    model: typeof c.model === 'string' ? c.model : null,
    values,
  }
}

async function main(): Promise<void> {
  const [fleetPath, pgUrl, amqpUrls] = process.argv.slice(2) as [string, string, string]
  const fleet = JSON.parse(readFileSync(fleetPath, 'utf8')) as FleetFile
  const { createHash, createPrivateKey } = await import('node:crypto')
  const table = new Map(fleet.senders.map((s) => [s.name, new Uint8Array(Buffer.from(s.spki, 'base64'))]))
  const opener = createOpener({
    provider: nodeProvider,
    recipientName: fleet.recipient,
    recipientKey: createPrivateKey(fleet.recipientKeyPem),
    trustedDomains: ['example.com'],
    clock: systemClock,
    maxAgeMs: 3600_000,
    replay: createReplayWindow(),
    resolveSender: async (name) => {
      const spki = table.get(name)
      if (spki === undefined) throw new Error(`unknown sender ${name}`)
      return { spki, auth: 'dnssec' }
    },
  })
  const store = new PostgresStore(pgUrl, { log: (l) => process.stderr.write(`${l}\n`) })
  await store.open()
  const ingest = new Ingest({ store, batchSize: 128, maxDelayMs: 5, log: (l) => process.stderr.write(`${l}\n`) })
  const n = { stored: 0, duplicate: 0, refused: 0 }
  const source = new AmqpSource({
    urls: amqpUrls.split(','),
    name: fleet.recipient,
    prefetch: 512,
    log: (l) => process.stderr.write(`${l}\n`),
  })
  const print = (): boolean => process.stdout.write(`count stored=${n.stored} duplicate=${n.duplicate} refused=${n.refused}\n`)
  const timer = setInterval(print, 200)
  await source.start((payload, ack) => {
    const receivedAt = Date.now()
    opener.open(new Uint8Array(payload)).then(
      (o) => {
        const m = toIncoming(o, createHash('sha256').update(payload).digest('hex'), receivedAt)
        ingest.push(m, (outcome) => {
          n[outcome]++
          ack()
        })
      },
      (err) => {
        // a copy this worker opened already (ERR_REPLAY: its first copy is in this ingest, committed or
        // about to be) or a bad message: acknowledged and counted, never stored
        // (acknowledged after a flush, so the first copy is durable before its redelivery leaves the queue)
        n.refused++
        if (!isDaneelError(err, 'ERR_REPLAY')) process.stderr.write(`refused: ${(err as Error).message}\n`)
        void ingest.flush().then(ack)
      },
    )
  })
  process.stdout.write('ready\n')
  process.once('SIGTERM', () => {
    void (async () => {
      await source.stop()
      await ingest.flush()
      await ingest.close()
      await store.close()
      clearInterval(timer)
      print()
      process.exit(0)
    })()
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
