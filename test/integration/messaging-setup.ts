/** Shared set-up for the messaging integration tests: Knot lab with our identities' TLSA, real Mosquitto, CLI processes. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'

export const RX = 'rx.gateway._device.example.test'
export const TX = 'tx1.airquality._device.example.test'

export interface World {
  dir: string
  lab: DnsLab
  broker: Mosquitto
  cryptoPath: string
  /** Environment for CLI processes: DNS lab, trust anchors, broker, identities, trusted domain. */
  env: NodeJS.ProcessEnv
  children: ChildProcess[]
  stop(): Promise<void>
}

/** Creates identities (P-256, self-signed), publishes their `3 1 0` TLSA in the signed lab zone, starts Mosquitto. */
export async function startWorld(
  prefix: string,
  names: string[] = [RX, TX],
  keyTypes: Record<string, 'p256' | 'rsa2048'> = {},
): Promise<World> {
  const tmp = makeTempDir(prefix)
  const cryptoPath = join(tmp.dir, 'crypto')
  mkdirSync(cryptoPath, { recursive: true })
  const lab = await startDnsLab()
  const children: ChildProcess[] = []
  let broker: Mosquitto | undefined
  const stop = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await broker?.stop()
    await lab.stop()
    tmp.cleanup()
  }
  try {
    for (const name of names) {
      const id = createIdentity({ cryptoPath, daneId: name, keyType: keyTypes[name] ?? 'p256' })
      const owner = name.replace(/\.example\.test$/, '')
      await lab.setRecords('example.test.', owner, 'TLSA', [formatTlsaRdata(makeTlsaRecord(id.cert!, 3, 1, 0))])
    }
    broker = await startMosquitto({ dir: join(tmp.dir, 'broker') })
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: cryptoPath,
      MQTT_URL: broker.url,
      TRUSTED_DOMAINS: 'example.test',
      LOG_LEVEL: 'warn',
    }
    return { dir: tmp.dir, lab, broker, cryptoPath, env, children, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export interface Listener {
  proc: ChildProcess
  /** Parsed stdout JSON lines. */
  lines: Record<string, unknown>[]
  stderr(): string
  /** Resolves once the receiver has subscribed (its log says so). */
  ready(): Promise<void>
  /** Sends SIGUSR1 and resolves with the next stats object printed. */
  stats(): Promise<{ received: number; opened: number; rejected: Record<string, number>; duplicatesJoined?: number }>
}

/** `daneel listen` as a child process. */
export function startListener(w: World, args: string[], state: string, name = RX): Listener {
  const proc = spawn(process.execPath, [cliPath, 'listen', ...args], {
    env: { ...w.env, DANE_ID: name, DANEEL_STATE: join(w.dir, state), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  w.children.push(proc)
  const lines: Record<string, unknown>[] = []
  let buf = ''
  let err = ''
  const statWaiters: ((s: never) => void)[] = []
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>)
      buf = buf.slice(nl + 1)
    }
  })
  let partial = ''
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
    // a stats line can arrive in two chunks: only whole lines are parsed
    const parts = (partial + d.toString()).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) {
      if (line.startsWith('{"stats"')) for (const w2 of statWaiters.splice(0)) w2((JSON.parse(line) as { stats: never }).stats)
    }
  })
  return {
    proc,
    lines,
    stderr: () => err,
    ready: () => waitFor(() => err.includes('subscribed') || proc.exitCode !== null, 30_000, 'receiver subscribed'),
    stats: () =>
      new Promise((resolve, reject) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`receiver exited: ${err}`))
        statWaiters.push(resolve as (s: never) => void)
        proc.once('exit', () => reject(new Error(`receiver exited: ${err}`)))
        proc.kill('SIGUSR1')
      }),
  }
}

/**
 * The streaming sender of these tests: a small script that seals {n} with seq n from a counter (the outbox's
 * next id, so a restarted sender continues where its durable log ends) and appends to the disk outbox, which
 * OutboxSender drains over MQTT. It prints "done" when `total` readings are stored and delivered.
 */
export function writeSenderScript(w: World): string {
  const path = join(w.dir, 'stream-sender.mjs')
  const imp = (p: string): string => JSON.stringify(repoPath(p))
  writeFileSync(
    path,
    `import { join } from 'node:path'
import { resolveSettings } from ${imp('build/settings/settings.js')}
import { peerDirectory } from ${imp('build/settings/peers.js')}
import { Backoff } from ${imp('build/messaging/backoff.js')}
import { MqttLink } from ${imp('build/messaging/mqtt.js')}
import { openOutbox } from ${imp('build/messaging/outbox.js')}
import { OutboxSender } from ${imp('build/messaging/sender.js')}
import { getProvider } from ${imp('build/src/crypto/get-provider.js')}
import { loadIdentity } from ${imp('build/src/identity/store.js')}
import { silentLogger } from ${imp('build/src/log.js')}
import { createSealer } from ${imp('build/src/message/seal.js')}
const [to, total, perTick, tickMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
const settings = resolveSettings({}, process.env)
const peer = await peerDirectory(settings, silentLogger).lookup(to)
const sealer = createSealer({ provider: getProvider('node'), senderName: settings.daneId, senderKey: loadIdentity(settings.cryptoPath, settings.daneId).privateKey, recipientName: to, recipientSpki: peer.spki })
const box = await openOutbox(join(settings.stateDir, 'outbox'))
const link = new MqttLink({ url: settings.mqttUrl, clientId: 'stream-' + settings.daneId.split('.')[0], maxMessageSize: settings.maxMessageSize, backoff: new Backoff({ baseMs: 50, capMs: 1000, minMs: 20 }) })
const sender = new OutboxSender(link, box, { window: 20 })
link.start()
while (box.nextId <= total) {
  const batch = []
  for (let k = 0; k < perTick && box.nextId <= total; k++) {
    const n = box.nextId
    batch.push(box.append(to, Buffer.from(sealer.seal({ n }, { now: Date.now(), seq: n }))).then((id) => { if (id !== n) throw new Error('id ' + id + ' != ' + n) }))
  }
  await Promise.all(batch)
  await new Promise((r) => setTimeout(r, tickMs))
}
while (!(await sender.drained(60_000))) {}
process.stdout.write('done\\n')
await link.stop()
await box.close()
`,
  )
  return path
}

export function startSender(w: World, script: string, name: string, args: (string | number)[]): ChildProcess & { out: () => string } {
  const proc = spawn(process.execPath, [script, ...args.map(String)], {
    env: { ...w.env, DANE_ID: name, DANEEL_STATE: join(w.dir, `state-${name}`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  w.children.push(proc)
  let out = ''
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  return Object.assign(proc, { out: () => out })
}

export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const seqOf = (line: Record<string, unknown>): number => (line.reading as { n: number }).n
