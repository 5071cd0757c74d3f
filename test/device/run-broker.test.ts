/** `daneel run` against brokers that need credentials (password file, mqtts:// with a private CA, client certificates), SIGUSR1 without a debugger. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import mqtt from 'mqtt'
import { type DemoDnsServer, startDnsServer } from '../../cli/demo/dns-server.js'
import { signZone } from '../../cli/demo/zone.js'
import { encodePmsFrame } from '../../sensors/fakes/pms5003-emulator.js'
import { encodeTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { TYPE } from '../../src/dns/wire.js'
import { createIdentity } from '../../src/identity/store.js'
import { makeBrokerPki, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const SENDER = 'n1._device.broker.test'
const GW = 'gw._device.broker.test'
const tmp = makeTempDir('daneel-run-broker-')
const crypto = join(tmp.dir, 'crypto')
const ttyA = join(tmp.dir, 'ttyA')
const ttyB = join(tmp.dir, 'ttyB')
const config = join(tmp.dir, 'device.json')
const anchors = join(tmp.dir, 'anchors.txt')
let dns: DemoDnsServer
let socat: ChildProcess | undefined
let feeder: NodeJS.Timeout | undefined
let ttyFd = -1
const children = new Set<ChildProcess>()
const stops: Array<() => Promise<unknown>> = []

before(async () => {
  const records = [SENDER, GW].map((name) => {
    const id = createIdentity({ cryptoPath: crypto, daneId: name })
    return { name, type: TYPE.TLSA, rdata: encodeTlsaRdata(makeTlsaRecord(id.cert!, 3, 1, 0)) }
  })
  const zone = signZone('broker.test', records)
  dns = await startDnsServer(zone)
  writeFileSync(anchors, zone.trustAnchor)
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      recipients: [GW],
      intervalSeconds: 0.2,
      statusIntervalSeconds: 0,
      drainSeconds: 1,
      sensors: [{ id: 'pm', type: 'pms5003', port: ttyA, warmupSeconds: 0 }],
    }),
  )
  socat = spawn('socat', [`pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], { stdio: 'ignore' })
  for (let i = 0; i < 200 && !(existsSync(ttyA) && existsSync(ttyB)); i++) await new Promise((r) => setTimeout(r, 20))
  ttyFd = openSync(ttyB, 'w')
  const frame = encodePmsFrame({
    pm1Cf1: 4,
    pm25Cf1: 7,
    pm10Cf1: 9,
    pm1: 4,
    pm25: 7,
    pm10: 9,
    n03: 100,
    n05: 9,
    n1: 5,
    n25: 1,
    n5: 0,
    n10: 0,
  })
  feeder = setInterval(() => {
    try {
      writeSync(ttyFd, frame)
    } catch {
      // the pty's buffer is full while nobody reads: drop, like a real line
    }
  }, 100)
})

after(async () => {
  for (const c of children) c.kill('SIGKILL')
  if (feeder !== undefined) clearInterval(feeder)
  if (ttyFd >= 0) closeSync(ttyFd)
  socat?.kill('SIGTERM')
  for (const s of stops) await s().catch(() => {})
  await dns?.close()
  tmp.cleanup()
})

function runtime(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [repoPath('build/cli/commands/run.js'), '--config', config, ...args], {
    env: {
      PATH: process.env.PATH,
      DANE_ID: SENDER,
      CRYPTO_PATH: crypto,
      DANEEL_STATE: join(tmp.dir, `state-${children.size}-${Date.now()}`),
      DNS_SERVER: dns.address,
      DNSSEC_TRUST_ANCHORS: anchors,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.add(child)
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d
  })
  const exit = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      children.delete(child)
      r(code)
    }),
  )
  return { child, stderr: () => err, exit }
}

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Subscribes to the recipient's topic; counts what arrives (compact JWE: five base64url parts). */
async function subscriber(url: string, opts: mqtt.IClientOptions): Promise<{ got: string[] }> {
  const got: string[] = []
  const sub = mqtt.connect(url, { clientId: `run-broker-${process.pid}-${Math.random()}`, ...opts })
  stops.push(() => sub.endAsync(true))
  await new Promise<void>((r, j) => {
    sub.once('connect', () => sub.subscribe(GW, { qos: 1 }, () => r()))
    sub.once('error', j)
  })
  sub.on('message', (_t, payload) => got.push(payload.toString()))
  return { got }
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

test('MQTT_USERNAME/MQTT_PASSWORD reach a broker with a password file; SIGUSR1 logs stats, no debugger; presence online/offline and the last will', async () => {
  const broker = await startMosquitto({ dir: join(tmp.dir, 'auth'), users: { dev1: 's3cret-pw', gw: 'gw-pw' } })
  stops.push(() => broker.stop())
  const { got } = await subscriber(broker.url, { username: 'gw', password: 'gw-pw' })
  const presence: string[] = []
  const watcher = mqtt.connect(broker.url, { clientId: `presence-${process.pid}`, username: 'gw', password: 'gw-pw' })
  stops.push(() => watcher.endAsync(true))
  watcher.on('message', (_t, p) => presence.push(p.toString()))
  await new Promise<void>((r) => watcher.once('connect', () => watcher.subscribe(`daneel/presence/${SENDER}`, { qos: 1 }, () => r())))
  const heartbeat = join(tmp.dir, 'heartbeat')
  const rt = runtime([], { MQTT_URL: broker.url, MQTT_USERNAME: 'dev1', MQTT_PASSWORD: 's3cret-pw', DANEEL_HEARTBEAT: heartbeat })
  await until(
    () => got.length >= 2,
    40_000,
    () => `readings through the password broker\n${rt.stderr()}\n${broker.log()}`,
  )
  assert.ok(
    got.every((m) => m.split('.').length === 5),
    'sealed as compact JWE',
  )

  const inspectorBefore = await portOpen(9229)
  rt.child.kill('SIGUSR1')
  await until(
    () => /SIGUSR1: stats/.test(rt.stderr()),
    10_000,
    () => `stats after SIGUSR1\n${rt.stderr()}`,
  )
  await new Promise((r) => setTimeout(r, 300))
  assert.doesNotMatch(rt.stderr(), /Debugger listening/)
  if (!inspectorBefore) assert.equal(await portOpen(9229), false, 'nothing listens on the inspector port')
  const line = rt
    .stderr()
    .split('\n')
    .find((l) => l.includes('SIGUSR1: stats'))!
  assert.match(line, /"readings":\d+/)
  assert.match(line, /"acknowledged":\d+/)
  assert.match(line, /"outbox":\d+/)
  assert.equal(rt.child.exitCode, null, 'SIGUSR1 does not stop the runtime')
  // The container healthcheck's heartbeat: the counters, written at start and every 30 s.
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(heartbeat, 'utf8'))).sort(), [
    'acknowledged',
    'held',
    'mqtt',
    'outbox',
    'readings',
    'sealed',
    'uptimeS',
  ])

  assert.equal(presence.at(-1), 'online', 'retained online while connected')
  rt.child.kill('SIGTERM')
  assert.equal(await rt.exit, 0, rt.stderr())
  await until(
    () => presence.at(-1) === 'offline',
    10_000,
    () => `offline after a clean stop: ${presence}`,
  )

  // Killed without a goodbye: the broker publishes the last will (retained offline) after the 5 s will delay.
  const killed = runtime([], { MQTT_URL: broker.url, MQTT_USERNAME: 'dev1', MQTT_PASSWORD: 's3cret-pw' })
  await until(
    () => presence.at(-1) === 'online',
    40_000,
    () => `online again\n${killed.stderr()}`,
  )
  killed.child.kill('SIGKILL')
  await killed.exit
  await until(
    () => presence.at(-1) === 'offline',
    20_000,
    () => `the last will: ${presence}`,
  )
  // Retained: a newcomer learns the state at once.
  const late = await new Promise<string>((resolve) => {
    const c = mqtt.connect(broker.url, { clientId: `late-${process.pid}`, username: 'gw', password: 'gw-pw' })
    stops.push(() => c.endAsync(true))
    c.on('message', (_t, p) => resolve(p.toString()))
    c.once('connect', () => c.subscribe(`daneel/presence/${SENDER}`, { qos: 1 }))
  })
  assert.equal(late, 'offline')

  // Wrong password: one clear line naming the broker and the user, exit 1 (no endless "Not authorized").
  const bad = runtime([], { MQTT_URL: broker.url, MQTT_USERNAME: 'dev1', MQTT_PASSWORD: 'wrong' })
  const code = await Promise.race([bad.exit, new Promise((r) => setTimeout(() => r('hung'), 30_000))])
  assert.equal(code, 1, bad.stderr())
  const reports = bad
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('daneel: '))
  assert.equal(reports.length, 1, bad.stderr())
  assert.match(
    reports[0]!,
    /^daneel: the broker at mqtt:\/\/127\.0\.0\.1:\d+ refused our credentials \(user 'dev1'\): .*Not authorized.* \[ERR_MQTT\]$/,
  )
  assert.ok(bad.stderr().split('refused our credentials').length - 1 <= 2, 'logged once, then reported once')
  assert.doesNotMatch(bad.stderr(), /wrong/, 'the password is never printed')
})

test('mqtts:// with a private CA: --mqtt-ca (and MQTT_CA) verify the broker; without it the TLS handshake fails', async () => {
  const d = join(tmp.dir, 'tls')
  const pki = makeBrokerPki(d)
  const broker = await startMosquitto({ dir: d, tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey } })
  stops.push(() => broker.stop())
  assert.match(broker.url, /^mqtts:/)
  const { got } = await subscriber(broker.url, { ca: readFileSync(pki.ca) })

  const rt = runtime(['--mqtt-ca', pki.ca], { MQTT_URL: broker.url })
  await until(
    () => got.length >= 2,
    40_000,
    () => `readings over mqtts with --mqtt-ca\n${rt.stderr()}`,
  )
  rt.child.kill('SIGTERM')
  assert.equal(await rt.exit, 0, rt.stderr())

  const n = got.length
  const env = runtime([], { MQTT_URL: broker.url, MQTT_CA: pki.ca })
  await until(
    () => got.length >= n + 2,
    40_000,
    () => `readings over mqtts with MQTT_CA\n${env.stderr()}`,
  )
  env.child.kill('SIGTERM')
  assert.equal(await env.exit, 0, env.stderr())

  const untrusted = runtime([], { MQTT_URL: broker.url })
  await until(
    () => /self[- ]signed|unable to verify|certificate/i.test(untrusted.stderr()),
    20_000,
    () => untrusted.stderr(),
  )
  untrusted.child.kill('SIGTERM')
  await untrusted.exit
})

test('a broker that requires client certificates: MQTT_CERT/MQTT_KEY (and --mqtt-cert/--mqtt-key) get through; without them, refused', async () => {
  const d = join(tmp.dir, 'mtls')
  const pki = makeBrokerPki(d)
  const broker = await startMosquitto({
    dir: d,
    tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey, requireCertificate: true },
  })
  stops.push(() => broker.stop())
  const { got } = await subscriber(broker.url, {
    ca: readFileSync(pki.ca),
    cert: readFileSync(pki.clientCert),
    key: readFileSync(pki.clientKey),
  })

  const env = runtime([], { MQTT_URL: broker.url, MQTT_CA: pki.ca, MQTT_CERT: pki.clientCert, MQTT_KEY: pki.clientKey })
  await until(
    () => got.length >= 2,
    40_000,
    () => `readings with MQTT_CERT/MQTT_KEY\n${env.stderr()}\n${broker.log()}`,
  )
  env.child.kill('SIGTERM')
  assert.equal(await env.exit, 0, env.stderr())

  const n = got.length
  const flags = runtime(['--mqtt-ca', pki.ca, '--mqtt-cert', pki.clientCert, '--mqtt-key', pki.clientKey], { MQTT_URL: broker.url })
  await until(
    () => got.length >= n + 2,
    40_000,
    () => `readings with --mqtt-cert/--mqtt-key\n${flags.stderr()}`,
  )
  flags.child.kill('SIGTERM')
  assert.equal(await flags.exit, 0, flags.stderr())

  // The control: the same CA, no client certificate; the broker ends the handshake and nothing is published.
  const m = got.length
  const anonymous = runtime([], { MQTT_URL: broker.url, MQTT_CA: pki.ca })
  await until(
    () => /alert certificate required/.test(anonymous.stderr()), // TLS 1.3 alert 116 (RFC 8446 §6.2)
    20_000,
    () => anonymous.stderr(),
  )
  anonymous.child.kill('SIGTERM')
  await anonymous.exit
  assert.equal(got.length, m, 'nothing got through without a client certificate')
})
