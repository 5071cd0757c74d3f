/** `node build/cli/commands/run.js --config FILE` end to end: real pty (socat), real Mosquitto, signed DNS; readings opened, SIGHUP, SIGTERM, restart. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import { type DemoDnsServer, startDnsServer } from '../../cli/demo/dns-server.js'
import { signZone } from '../../cli/demo/zone.js'
import { encodePmsFrame } from '../../sensors/fakes/pms5003-emulator.js'
import { systemClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { createPeerDirectory } from '../../src/dane/discover.js'
import { encodeTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../src/dns/resolver.js'
import { TYPE } from '../../src/dns/wire.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { createOpener, type Opener } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const SENDER = 'n1.airquality._device.main.test'
const GW1 = 'gw1._device.main.test'
const GW2 = 'gw2._device.main.test'
const tmp = makeTempDir('daneel-main-')
const crypto = join(tmp.dir, 'crypto')
const ttyA = join(tmp.dir, 'ttyA')
const ttyB = join(tmp.dir, 'ttyB')
const config = join(tmp.dir, 'device.json')
const state = join(tmp.dir, 'state')
let dns: DemoDnsServer
let broker: Mosquitto
let socat: ChildProcess | undefined
let feeder: NodeJS.Timeout | undefined
let ttyFd = -1
let sub: MqttClient
const openers = new Map<string, Opener>()
const got: Array<{ to: string; claims: Record<string, any> }> = []
const children = new Set<ChildProcess>()

const writeConfig = (recipients: string[], extra: Record<string, unknown> = {}) =>
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      recipients,
      intervalSeconds: 0.2,
      statusIntervalSeconds: 0,
      drainSeconds: 3,
      sensors: [{ id: 'pm', type: 'pms5003', port: ttyA, warmupSeconds: 0 }],
      ...extra,
    }),
  )

before(async () => {
  const records = [SENDER, GW1, GW2].map((name) => {
    const id = createIdentity({ cryptoPath: crypto, daneId: name })
    return { name, type: TYPE.TLSA, rdata: encodeTlsaRdata(makeTlsaRecord(id.cert!, 3, 1, 0)) }
  })
  const zone = signZone('main.test', records)
  dns = await startDnsServer(zone)
  writeFileSync(join(tmp.dir, 'anchors.txt'), zone.trustAnchor)
  broker = await startMosquitto({ dir: join(tmp.dir, 'mosquitto') })
  socat = spawn('socat', [`pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], { stdio: 'ignore' })
  for (let i = 0; i < 200 && !(existsSync(ttyA) && existsSync(ttyB)); i++) await new Promise((r) => setTimeout(r, 20))
  ttyFd = openSync(ttyB, 'w')
  let pm = 5
  feeder = setInterval(() => {
    pm = (pm % 40) + 1
    try {
      writeSync(
        ttyFd,
        encodePmsFrame({
          pm1Cf1: pm,
          pm25Cf1: pm,
          pm10Cf1: pm,
          pm1: pm,
          pm25: pm,
          pm10: pm + 3,
          n03: pm * 26,
          n05: 9,
          n1: 5,
          n25: 1,
          n5: 0,
          n10: 0,
        }),
      )
    } catch {
      // the pty's buffer is full while nobody reads: drop, like a real line
    }
  }, 100)
  const resolver = createResolver({
    servers: [dns.address],
    clock: systemClock,
    trustAnchors: loadTrustAnchors(join(tmp.dir, 'anchors.txt')),
  })
  const directory = createPeerDirectory({ resolver, clock: systemClock, noDnssec: false })
  for (const gw of [GW1, GW2]) {
    openers.set(
      gw,
      createOpener({
        provider: getProvider('node'),
        recipientName: gw,
        recipientKey: loadIdentity(crypto, gw).privateKey,
        trustedDomains: ['main.test'],
        resolveSender: async (n) => {
          const p = await directory.lookup(n)
          return { spki: p.spki, auth: p.auth }
        },
        clock: systemClock,
        replay: createReplayWindow(),
      }),
    )
  }
  sub = mqtt.connect(broker.url, { clientId: `main-test-${process.pid}` })
  await new Promise<void>((r) => sub.once('connect', () => sub.subscribe([GW1, GW2], { qos: 1 }, () => r())))
  sub.on('message', (topic, payload) => {
    void openers
      .get(topic)!
      .open(payload)
      .then(
        (m) => got.push({ to: topic, claims: m.claims as Record<string, any> }),
        () => got.push({ to: topic, claims: { rejected: true } }),
      )
  })
})

after(async () => {
  for (const c of children) c.kill('SIGKILL')
  if (feeder !== undefined) clearInterval(feeder)
  if (ttyFd >= 0) closeSync(ttyFd)
  socat?.kill('SIGTERM')
  await sub?.endAsync(true)
  await broker?.stop()
  await dns?.close()
  tmp.cleanup()
})

function startRuntime(): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=48', '--max-semi-space-size=1', repoPath('build/cli/commands/run.js'), '--config', config],
    {
      env: {
        PATH: process.env.PATH,
        DANE_ID: SENDER,
        CRYPTO_PATH: crypto,
        DANEEL_STATE: state,
        MQTT_URL: broker.url,
        DNS_SERVER: dns.address,
        DNSSEC_TRUST_ANCHORS: join(tmp.dir, 'anchors.txt'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
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

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('the runtime publishes sealed readings; SIGHUP reloads (bad config kept); SIGTERM drains and exits 0; seq survives a restart', async () => {
  writeConfig([GW1])
  const rt = startRuntime()
  await until(() => got.filter((g) => g.to === GW1).length >= 3, 40_000, `readings to ${GW1}\n${rt.stderr()}`)
  const first = got.find((g) => g.to === GW1)!.claims
  assert.equal(first.aud, GW1)
  assert.equal(first.r.sensor, 'pm', 'the reading travels under the r claim')
  assert.equal(first.r.model, 'pms5003')
  assert.ok(first.r.values.pm25 >= 1 && first.r.values.pm25 <= 40)
  assert.ok(!got.some((g) => g.claims.rejected), 'every message opened and verified')

  writeConfig([GW2])
  rt.child.kill('SIGHUP')
  await until(() => got.filter((g) => g.to === GW2).length >= 2, 40_000, `readings to ${GW2} after SIGHUP\n${rt.stderr()}`)

  writeFileSync(config, '{"version":1,"recipients":[],"sensors":[]}')
  rt.child.kill('SIGHUP')
  await new Promise((r) => setTimeout(r, 300))
  rt.child.kill('SIGHUP')
  const before = got.filter((g) => g.to === GW2).length
  await until(() => got.filter((g) => g.to === GW2).length >= before + 2, 10_000, 'readings continuing after a bad reload')
  assert.equal(rt.stderr().split('config reload rejected').length - 1, 1, 'a bad reload is logged once')
  assert.match(rt.stderr(), /config field recipients/)

  rt.child.kill('SIGTERM')
  assert.equal(await rt.exit, 0, rt.stderr())
  assert.match(rt.stderr(), /outbox drained/)
  const lastSeq = Math.max(...got.map((g) => g.claims.seq as number))
  const saved = JSON.parse(readFileSync(join(state, `seq.${SENDER}.json`), 'utf8')).reserved as number
  assert.equal(saved, lastSeq + 1, 'a clean stop persists the exact next sequence number')
  const seqs = got.map((g) => g.claims.seq as number).sort((a, b) => a - b)
  assert.equal(new Set(seqs).size, seqs.length, 'no sequence number twice')

  writeConfig([GW1])
  const rt2 = startRuntime()
  const n = got.length
  await until(() => got.length >= n + 2, 40_000, `readings after restart\n${rt2.stderr()}`)
  assert.equal(Math.min(...got.slice(n).map((g) => g.claims.seq as number)), lastSeq + 1, 'the sequence resumes where it stopped')
  rt2.child.kill('SIGTERM')
  assert.equal(await rt2.exit, 0)
})

test('DNS down at boot: the runtime waits for it (transient errors retried) instead of crash-looping, then publishes', async () => {
  // A port that answers nothing: take one from a server, then close it.
  const probe = await startDnsServer(signZone('main.test', []))
  const port = probe.port
  await probe.close()
  const zone = signZone(
    'main.test',
    [SENDER, GW1].map((name) => ({
      name,
      type: TYPE.TLSA,
      rdata: encodeTlsaRdata(makeTlsaRecord(loadIdentity(crypto, name).cert!, 3, 1, 0)),
    })),
  )
  writeFileSync(join(tmp.dir, 'anchors2.txt'), zone.trustAnchor)
  writeConfig([GW1])
  const child = spawn(process.execPath, [repoPath('build/cli/commands/run.js'), '--config', config], {
    env: {
      PATH: process.env.PATH,
      DANE_ID: SENDER,
      CRYPTO_PATH: crypto,
      DANEEL_STATE: state,
      MQTT_URL: broker.url,
      DNS_SERVER: `127.0.0.1:${port}`,
      DNSSEC_TRUST_ANCHORS: join(tmp.dir, 'anchors2.txt'),
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
  await until(() => /cannot look up recipient .* yet; retrying/.test(err), 20_000, `a retry warning\n${err}`)
  assert.equal(child.exitCode, null, 'still running')
  const late = await startDnsServer(zone, '127.0.0.1', port)
  try {
    const n = got.length
    await until(() => got.length > n, 60_000, `readings once DNS is up\n${err}`)
    child.kill('SIGTERM')
    assert.equal(await exit, 0)
    assert.equal(err.split('retrying').length - 1, 1, 'the same reason is logged once')
  } finally {
    await late.close()
  }
})

test('usage and config errors exit 2 with the reason', async () => {
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [repoPath('build/cli/commands/run.js'), ...args], {
      env: { PATH: process.env.PATH, DANE_ID: SENDER, CRYPTO_PATH: crypto, DANEEL_STATE: state, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr!.on('data', (d: Buffer) => {
      err += d
    })
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    return { code, err }
  }
  const noConfig = await run([])
  assert.equal(noConfig.code, 2)
  assert.match(noConfig.err, /--config FILE is required/)
  const badPath = join(tmp.dir, 'bad.json')
  writeFileSync(badPath, JSON.stringify({ version: 1, recipients: [GW1], sensors: [{ id: 'pm', type: 'pms5003' }] }))
  const bad = await run(['--config', badPath])
  assert.equal(bad.code, 2)
  assert.match(bad.err, /config field sensors\[0\]\.port: is required \[ERR_CONFIG_INVALID\]/)
  writeConfig([GW1])
  const noId = await run(['--config', config], { DANE_ID: 'nobody._device.main.test' })
  assert.equal(noId.code, 2)
  assert.match(noId.err, /ERR_IDENTITY_MISSING/)
})
