/** Simulated nodes for the scale tests: P-256 identities in the Knot lab, `daneel gateway` workers on AMQP, sealed readings. */
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { nodeProvider } from '../src/crypto/node.js'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity } from '../src/identity/store.js'
import { createSealer, type Sealer } from '../src/message/seal.js'
import { type DnsLab, startDnsLab } from './dns-lab.js'
import { cliPath } from './paths.js'
import { freePort } from './ports.js'

export const SCALE_GATEWAY = 'gw.sim.airquality._device.example.test'

export interface Fleet {
  recipient: string
  nodes: { name: string; sealer: Sealer; spki: Uint8Array }[]
  lab: DnsLab
  /** Environment for `daneel gateway` workers: the lab's DNS and trust anchors, the gateway's identity. */
  env: NodeJS.ProcessEnv
}

const spkiOf = (k: KeyObject): Uint8Array => new Uint8Array(k.export({ format: 'der', type: 'spki' }))

/**
 * `count` nodes `nN.sim.airquality._device.example.test` sealing to one gateway identity (created with its key
 * under `dir`/crypto, as `daneel identity create` does), every node's `3 1 0` TLSA published in the signed lab
 * zone (one signing), and the lab started. Stop `fleet.lab` at the end.
 */
export async function startFleet(count: number, dir: string): Promise<Fleet> {
  const cryptoPath = join(dir, 'crypto')
  mkdirSync(cryptoPath, { recursive: true })
  const gw = createIdentity({ cryptoPath, daneId: SCALE_GATEWAY, keyType: 'p256' })
  // biome-ignore lint/style/noNonNullAssertion: createIdentity always makes a certificate without --csr
  const gwTlsa = makeTlsaRecord(gw.cert!, 3, 1, 0)
  const owner = (name: string): string => name.replace(/\.example\.test$/, '')
  const nodes = Array.from({ length: count }, (_, i) => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const name = `n${i}.sim.airquality._device.example.test`
    const sealer = createSealer({
      provider: nodeProvider,
      senderName: name,
      senderKey: k.privateKey,
      recipientName: SCALE_GATEWAY,
      recipientSpki: gwTlsa.data,
    })
    return { name, sealer, spki: spkiOf(k.publicKey) }
  })
  const lines = [
    `${owner(SCALE_GATEWAY)} IN TLSA ${formatTlsaRdata(gwTlsa)}`,
    ...nodes.map((n) => `${owner(n.name)} IN TLSA 3 1 0 ${Buffer.from(n.spki).toString('hex').toUpperCase()}`),
  ]
  const lab = await startDnsLab({ records: { 'example.test.': lines } })
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    CRYPTO_PATH: cryptoPath,
    DANE_ID: SCALE_GATEWAY,
    TRUSTED_DOMAINS: 'example.test',
    DANEEL_STATE: join(dir, 'state'),
    LOG_LEVEL: 'info',
    // under c8, the workers report their coverage too (a SIGKILLed one writes none)
    ...(process.env.NODE_V8_COVERAGE === undefined ? {} : { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE }),
  }
  return { recipient: SCALE_GATEWAY, nodes, lab, env }
}

/** Reading `seq` of node `i`: one PMS5003-like sample (`values.node` lets a test find it in the store). */
export function sealReading(f: Fleet, i: number, seq: number, now: number): string {
  const node = f.nodes[i]
  if (node === undefined) throw new RangeError(`no node ${i}`)
  return node.sealer.seal({ sensor: 'pms5003-0', model: 'PMS5003', values: { pm25: (seq % 40) + 0.5, node: i } }, { now, seq })
}

export interface Worker {
  proc: ChildProcess
  httpPort: number
  stderr(): string
  /** The worker's stored and duplicate counters from its /metrics (undefined once it stopped answering). */
  counts(): Promise<{ stored: number; duplicates: number } | undefined>
}

/**
 * `daneel gateway --source AMQP_URLS --store STORE --http 127.0.0.1:PORT [args]` as a child process; resolves once
 * its /healthz says the broker is connected (the queue declared, a consumer on it). A port another process took
 * between `freePort` and the listen (EADDRINUSE) is retried on a new one.
 */
export async function startWorker(f: Fleet, amqpUrls: string[], store: string, args: string[] = []): Promise<Worker> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnWorker(f, amqpUrls, store, args)
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err
    }
  }
}

async function spawnWorker(f: Fleet, amqpUrls: string[], store: string, args: string[]): Promise<Worker> {
  const httpPort = await freePort()
  const proc = spawn(
    process.execPath,
    [cliPath, 'gateway', '--source', amqpUrls.join(','), '--store', store, '--http', `127.0.0.1:${httpPort}`, ...args],
    { env: f.env, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const base = `http://127.0.0.1:${httpPort}`
  const w: Worker = {
    proc,
    httpPort,
    stderr: () => err,
    counts: async () => {
      try {
        const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) })).text()
        const get = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
        return { stored: get('daneel_readings_stored_total'), duplicates: get('daneel_readings_duplicate_total') }
      } catch {
        return undefined
      }
    },
  }
  for (const end = Date.now() + 120_000; ; ) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`gateway exited (${proc.exitCode}): ${err}`)
    if (Date.now() > end) {
      proc.kill('SIGKILL')
      throw new Error(`gateway not consuming within 120 s: ${err}`)
    }
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.json() as Promise<{ broker?: boolean }>,
      () => undefined,
    )
    if (health?.broker === true && proc.exitCode === null) return w
    await new Promise((r) => setTimeout(r, 100))
  }
}
