/** A gateway world for tests and benches: N node identities + the gateway's in the Knot lab, a real Mosquitto, CLI processes. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity } from '../src/identity/store.js'
import { type DnsLab, startDnsLab } from './dns-lab.js'
import { type Mosquitto, startMosquitto } from './mosquitto.js'
import { cliPath, makeTempDir, repoPath } from './paths.js'
import { freePort } from './ports.js'

export const GATEWAY = 'gw.gateway._device.example.test'
export const nodeName = (i: number): string => `n${i}.airquality._device.example.test`

export interface GatewayLab {
  dir: string
  lab: DnsLab
  broker: Mosquitto
  cryptoPath: string
  nodes: string[]
  /** Environment for CLI processes: DNS lab, trust anchors, broker, identities, trusted domain. */
  env: NodeJS.ProcessEnv
  children: ChildProcess[]
  stop(): Promise<void>
}

/**
 * Creates the gateway's identity (P-256, or `gatewayKey`: RSA to receive the original system's senders) and `nodes`
 * P-256 identities, publishes every `3 1 0` TLSA record in the signed lab zone at start (one signing, however many
 * nodes), starts Mosquitto with persistence.
 */
export async function startGatewayLab(
  prefix: string,
  nodes: number,
  opts: { persistence?: boolean; gatewayKey?: 'p256' | 'rsa2048' } = {},
): Promise<GatewayLab> {
  const { gatewayKey, ...brokerOpts } = opts
  const tmp = makeTempDir(prefix)
  const cryptoPath = join(tmp.dir, 'crypto')
  mkdirSync(cryptoPath, { recursive: true })
  const names = [GATEWAY, ...Array.from({ length: nodes }, (_, i) => nodeName(i))]
  const lines = names.map((name) => {
    const id = createIdentity({ cryptoPath, daneId: name, keyType: name === GATEWAY ? (gatewayKey ?? 'p256') : 'p256' })
    // biome-ignore lint/style/noNonNullAssertion: createIdentity always makes a certificate without --csr
    return `${name.replace(/\.example\.test$/, '')} IN TLSA ${formatTlsaRdata(makeTlsaRecord(id.cert!, 3, 1, 0))}`
  })
  const lab = await startDnsLab({ records: { 'example.test.': lines } })
  const children: ChildProcess[] = []
  let broker: Mosquitto | undefined
  const stop = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await broker?.stop()
    await lab.stop()
    tmp.cleanup()
  }
  try {
    broker = await startMosquitto({ dir: join(tmp.dir, 'broker'), ...brokerOpts })
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: cryptoPath,
      MQTT_URL: broker.url,
      TRUSTED_DOMAINS: 'example.test',
      LOG_LEVEL: 'warn',
      // under c8, the CLI children report their coverage too (a SIGKILLed one writes none)
      ...(process.env.NODE_V8_COVERAGE === undefined ? {} : { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE }),
    }
    return { dir: tmp.dir, lab, broker, cryptoPath, nodes: names.slice(1), env, children, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export interface GatewayProcess {
  proc: ChildProcess
  httpPort: number
  stderr(): string
  /** Resolves once the gateway subscribed (its log says so); rejects if it exits first. */
  ready(): Promise<void>
  exited(): Promise<number | null>
}

/** `daneel gateway` as a child process (LOG_LEVEL info, so 'subscribed' is logged). */
export async function startGatewayProcess(
  w: GatewayLab,
  args: string[] = [],
  opts: { httpPort?: number; nodeArgs?: string[] } = {},
): Promise<GatewayProcess> {
  const httpPort = opts.httpPort ?? (await freePort())
  const proc = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), cliPath, 'gateway', '--http', `127.0.0.1:${httpPort}`, '--client-id', 'gw-under-test', ...args],
    {
      env: { ...w.env, DANE_ID: GATEWAY, DANEEL_STATE: join(w.dir, 'gw-state'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  w.children.push(proc)
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return {
    proc,
    httpPort,
    stderr: () => err,
    exited: () => exit,
    ready: async () => {
      const end = Date.now() + 60_000
      while (!err.includes('"subscribed"') && !err.includes('subscribed')) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`gateway exited (${proc.exitCode}): ${err}`)
        if (Date.now() > end) throw new Error(`gateway did not subscribe within 60 s: ${err}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}

/** `daneel send GATEWAY -` from node `name`, fed `lines`; resolves with its exit code and output. */
export function sendLines(w: GatewayLab, name: string, lines: string[]): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [cliPath, 'send', GATEWAY, '-', '--timeout', '120'], {
    env: { ...w.env, DANE_ID: name, DANEEL_STATE: join(w.dir, `state-${name}`) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  w.children.push(proc)
  let out = ''
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  proc.stdin?.end(`${lines.join('\n')}\n`)
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, out })))
}

/** A node's k-th reading as `send -` takes it: a PMS5003-like particulate reading plus a climate sensor's. */
export function readingLine(k: number, sensor: 'pm' | 'climate' = 'pm'): string {
  if (sensor === 'climate')
    return JSON.stringify({
      sensor: 'scd41-0',
      model: 'SCD41',
      values: { co2: 420 + (k % 300), temperature: 18 + (k % 7), humidity: 40 + (k % 11), k },
    })
  return JSON.stringify({ sensor: 'pms5003-0', model: 'PMS5003', values: { pm1: k % 9, pm25: 5 + (k % 40), pm10: 8 + (k % 60), k } })
}

/** testkit/fleet.ts as a child process: every node of the lab sends `perNode` readings at `rate` per second each. */
export function startFleet(
  w: GatewayLab,
  perNode: number,
  rate: number,
  spanSeconds = 0,
  seqBase = 0,
): { proc: ChildProcess; out(): string; done: Promise<number | null> } {
  const proc = spawn(process.execPath, [repoPath('build/testkit/fleet.js'), GATEWAY, String(perNode), String(rate), ...w.nodes], {
    env: { ...w.env, FLEET_SPAN_S: String(spanSeconds), FLEET_SEQ_BASE: String(seqBase) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  w.children.push(proc)
  let out = ''
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  return { proc, out: () => out, done: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) }
}
