/** A boot with DNS down and the clock unsynced, with real parts: `daneel run` on a socat pty, knotd (DNSSEC), Mosquitto, `daneel listen`. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { encodePmsFrame } from '../../sensors/fakes/pms5003-emulator.js'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'
import { type PtyPair, startPtyPair } from './hal-linux/pty-pair.js'

const SENDER = 'n1.boot._device.example.test'
const GW = 'gw.boot._device.example.test'
/** The outage: DNS comes up this long after the runtime starts (the acceptance item: 10-20 s). */
const DNS_DOWN_MS = 12_000
/** A frame every FEED_MS, numbered: its PM values are its number, so a reading's values say when its frames were fed. */
const FEED_MS = 500
/**
 * How far a reading's time may be from the feeding of its last frame: `iat` is in whole seconds (up to 1 s early),
 * the window closes about one sampling (1 s) plus one frame (0.5 s) after its last sample's frame was fed; the rest
 * is slack for a loaded machine. Stamped at its release instead, the first reading would be off by 15 s or more.
 */
const IAT_TOLERANCE_MS = 3000

const tmp = makeTempDir('daneel-boot-outage-')
const crypto = join(tmp.dir, 'crypto')
const config = join(tmp.dir, 'device.json')
const synced = join(tmp.dir, 'time-synced')
let lab: DnsLab
let broker: Mosquitto
let pty: PtyPair
let feeder: NodeJS.Timeout | undefined
const children = new Set<ChildProcess>()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

before(async () => {
  const records = [SENDER, GW].map((name) => {
    const id = createIdentity({ cryptoPath: crypto, daneId: name, keyType: 'p256' })
    assert.ok(id.cert !== undefined)
    return `${name}. IN TLSA ${formatTlsaRdata(makeTlsaRecord(id.cert, 3, 1, 0))}`
  })
  lab = await startDnsLab({ records: { 'example.test.': records } })
  broker = await startMosquitto({ dir: join(tmp.dir, 'mosquitto') })
  pty = await startPtyPair(tmp.dir)
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      recipients: [GW],
      intervalSeconds: 2,
      statusIntervalSeconds: 0,
      drainSeconds: 2,
      // 2 s back-to-back windows (too short to duty-cycle), sampled once a second, windowStats for the frames' span.
      sensors: [{ id: 'pm', type: 'pms5003', port: pty.device, warmupSeconds: 0, windowStats: ['min', 'max'] }],
    }),
  )
})

after(async () => {
  for (const c of children) c.kill('SIGKILL')
  if (feeder !== undefined) clearInterval(feeder)
  await pty?.stop()
  await broker?.stop()
  await lab?.stop()
  tmp.cleanup()
})

function spawnDaneel(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [script, ...args], {
    env: {
      PATH: process.env.PATH,
      CRYPTO_PATH: crypto,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      MQTT_URL: broker.url,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d
  })
  const exit = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      children.delete(child)
      r(code)
    }),
  )
  return { child, stdout: () => out, stderr: () => err, exit }
}

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`)
    await sleep(50)
  }
}

/** A window reading's span: ms since the epoch, and the first and last frame numbers sampled (windowStats min, max). */
interface Window {
  start: number
  end: number
  min: { pm25: number }
  max: { pm25: number }
}

/** One line of `daneel listen`. */
interface Opened {
  from: string
  auth: string
  claims: { aud: string; iat: number; seq: number }
  reading: { window?: Window }
  receivedAt: string
}

test('DNS down and the clock unsynced at boot: every reading of those seconds arrives after the sync, in order, stamped with its true time', async () => {
  await lab.down()
  const listen = spawnDaneel(cliPath, ['listen'], { DANE_ID: GW, TRUSTED_DOMAINS: 'example.test', DANEEL_STATE: join(tmp.dir, 'listen') })
  await until(
    () => /mqtt connected/.test(listen.stderr()),
    20_000,
    () => `daneel listen connected\n${listen.stderr()}`,
  )
  const opened = (): Opened[] =>
    listen
      .stdout()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Opened)

  // The node boots: DNS_SERVER's port is closed and the sync file absent.
  const fedAt: number[] = []
  const runtime = spawnDaneel(repoPath('build/cli/commands/run.js'), ['--config', config], {
    DANE_ID: SENDER,
    DANEEL_STATE: join(tmp.dir, 'device'),
    DANEEL_TIME_SYNC_FILE: synced,
  })
  const bootAt = Date.now()
  feeder = setInterval(() => {
    const k = fedAt.length
    const frame = encodePmsFrame({
      pm1Cf1: k,
      pm25Cf1: k,
      pm10Cf1: k,
      pm1: k,
      pm25: k,
      pm10: k,
      n03: 100,
      n05: 9,
      n1: 5,
      n25: 1,
      n5: 0,
      n10: 0,
    })
    try {
      pty.send(frame)
      fedAt.push(Date.now())
    } catch {
      // the pty's buffer is full while nobody reads: this frame never reached the sensor's end
    }
  }, FEED_MS)

  await sleep(bootAt + DNS_DOWN_MS - Date.now())
  await lab.up()
  const dnsUpAt = Date.now()
  // DNS answers now; the runtime's next lookup reaches it and is stopped by the clock alone (DNSSEC signatures
  // cannot be checked against an unsynced clock). Had the clock counted as synced, the key would be found here
  // and the held readings sealed: wait for whichever comes first.
  const blockedByClock =
    /cannot look up recipient \S+ yet; retrying .*"error":"(ERR_DNSSEC_INDETERMINATE|ERR_CLOCK_UNSYNCED):.*not synchronised/
  await until(
    () => blockedByClock.test(runtime.stderr()) || /device loop started/.test(runtime.stderr()) || runtime.child.exitCode !== null,
    60_000,
    () => `the runtime's first lookup with DNS up\n${runtime.stderr()}`,
  )
  assert.match(runtime.stderr(), blockedByClock, 'with DNS up, the clock alone holds the readings')
  assert.doesNotMatch(runtime.stderr(), /sealing the readings kept meanwhile/)
  assert.equal(opened().length, 0, `nothing sealed while the clock is unsynced\n${runtime.stderr()}`)
  assert.equal(runtime.child.exitCode, null, runtime.stderr())
  writeFileSync(synced, '')
  const syncAt = Date.now()

  // The held readings go out at the runtime's next lookup; wait for a reading taken after the sync too (live).
  const windows = (): Array<Window & { iat: number }> =>
    opened().flatMap((m) => (m.reading.window === undefined ? [] : [{ iat: m.claims.iat * 1000, ...m.reading.window }]))
  await until(
    () => windows().some((w) => w.start > syncAt),
    60_000,
    () => `a reading taken after the sync\n${runtime.stderr()}\n${listen.stderr()}`,
  )
  // None missing: with the frames stopped the readings stop too (a window without a sample publishes nothing);
  // then every reading the runtime counted (SIGUSR1's stats) has arrived, and nothing is held or queued.
  clearInterval(feeder)
  feeder = undefined
  let stats = ''
  for (let asked = 0; ; asked++) {
    stats = runtime.stderr().split('SIGUSR1: stats').at(-1)?.split('\n')[0] ?? ''
    if (asked > 0 && new RegExp(`"readings":${windows().length},.*"outbox":0,"held":0,`).test(stats)) break
    assert.ok(asked < 60, `every reading the runtime counted was received (${windows().length}): ${stats}\n${listen.stderr()}`)
    runtime.child.kill('SIGUSR1')
    await sleep(500)
  }
  runtime.child.kill('SIGTERM')
  assert.equal(await runtime.exit, 0, runtime.stderr())
  listen.child.kill('SIGTERM')
  await listen.exit

  const all = opened()
  assert.ok(
    all.every((m) => m.from === SENDER && m.auth === 'dnssec' && m.claims.aud === GW),
    'opened by the recipient, the sender verified through the same DNS',
  )
  assert.ok(
    all.every((m) => Date.parse(m.receivedAt) >= syncAt),
    'nothing arrived before the sync',
  )
  // In order of seq, none skipped: consecutive numbers over everything sealed (readings and status).
  const seqs = all.map((m) => m.claims.seq)
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => (seqs[0] ?? 0) + i),
  )

  const ws = windows()
  const fed = (k: number): number => {
    const t = fedAt[k]
    assert.ok(t !== undefined, `frame ${k} was fed`)
    return t
  }
  const fedBeforeDns = fedAt.filter((t) => t < dnsUpAt).length
  const duringOutage = ws.filter((w) => w.max.pm25 < fedBeforeDns)
  assert.ok(duringOutage.length >= 2, `readings of frames fed while DNS was down: ${duringOutage.length}\n${runtime.stderr()}`)
  let prev: Window | undefined
  for (const [i, w] of ws.entries()) {
    assert.ok(w.min.pm25 <= w.max.pm25)
    // Each window takes up where the one before ended, in time and in frames: a reading lost in between would
    // leave a 2 s hole (the frames' numbers step by 2 a window or so, but a stalled feeder or sampler bends that).
    if (prev !== undefined) {
      assert.ok(
        Math.abs(w.start - prev.end) <= 250 && w.min.pm25 >= prev.max.pm25,
        `reading ${i} (frames ${w.min.pm25}-${w.max.pm25} in [${w.start}, ${w.end}]) follows the one before (${prev.min.pm25}-${prev.max.pm25} in [${prev.start}, ${prev.end}])`,
      )
    }
    prev = w
    // Stamped with its true time: when its last frame was fed, not when it was released.
    const lastFed = fed(w.max.pm25)
    assert.ok(
      Math.abs(w.iat - lastFed) <= IAT_TOLERANCE_MS,
      `reading ${i}: iat ${new Date(w.iat).toISOString()}, its last frame fed at ${new Date(lastFed).toISOString()}`,
    )
    assert.ok(
      w.start <= fed(w.min.pm25) + IAT_TOLERANCE_MS && w.end >= lastFed - IAT_TOLERANCE_MS,
      `reading ${i}: the window [${w.start}, ${w.end}] spans its frames`,
    )
  }
  // The runtime's own account: held while unsynced, released once.
  assert.equal(runtime.stderr().split('sealing the readings kept meanwhile').length - 1, 1, runtime.stderr())
})
