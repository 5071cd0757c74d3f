/** bench/device's start-up measure: spawn the device runtime (bundle and unbundled) with the unit's flags, time to its first published reading. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { startDnsServer } from '../cli/demo/dns-server.js'
import { signZone } from '../cli/demo/zone.js'
import { encodePmsFrame } from '../sensors/fakes/pms5003-emulator.js'
import { encodeTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { TYPE } from '../src/dns/wire.js'
import { createIdentity } from '../src/identity/store.js'

const SENDER = 'start1.airquality._device.bench.test'
const RECIPIENT = 'gateway._device.bench.test'
const RUNS = 5

interface Row {
  measure: string
  impl: string
  value: number
  unit: string
  note: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A real tty for the real hal-linux Uart: a socat pty pair. The bench plays the PMS5003 on one end (a frame every
 * 50 ms), the runtime opens the other. DNS is the demo's signed zone server; the broker is the bench's Mosquitto.
 */
export async function measureStartup(
  root: string,
  mqttUrl: string,
  dir: string,
  flags: string[],
  opts: { duty?: boolean } = {},
): Promise<Row[]> {
  // duty: the bundle only, once, its PM sensor woken every 3 s for a 0.5 s warm-up and a 1 s window (device/duty.ts),
  // for the RSS with the duty cycle running (start-up time is not measured: the first reading waits for a window).
  const duty = opts.duty === true
  mkdirSync(dir, { recursive: true })
  const crypto = join(dir, 'crypto')
  const records = [SENDER, RECIPIENT].map((name) => {
    const id = createIdentity({ cryptoPath: crypto, daneId: name })
    return { name, type: TYPE.TLSA, rdata: encodeTlsaRdata(makeTlsaRecord(id.cert as NonNullable<typeof id.cert>, 3, 1, 0)) }
  })
  const zone = signZone('bench.test', records)
  const dns = await startDnsServer(zone)
  const anchors = join(dir, 'anchors.txt')
  writeFileSync(anchors, zone.trustAnchor)
  const ttyA = join(dir, 'ttyA')
  const ttyB = join(dir, 'ttyB')
  const socat = spawn('socat', [`pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], { stdio: 'ignore' })
  for (let i = 0; i < 100 && !(existsSync(ttyA) && existsSync(ttyB)); i++) await sleep(20)
  const fd = openSync(ttyB, 'w')
  const frame = encodePmsFrame({
    pm1Cf1: 6,
    pm25Cf1: 8,
    pm10Cf1: 11,
    pm1: 6,
    pm25: 8,
    pm10: 11,
    n03: 210,
    n05: 70,
    n1: 45,
    n25: 30,
    n5: 0,
    n10: 0,
  })
  const feeder = setInterval(() => {
    try {
      writeSync(fd, frame)
    } catch {
      // nobody reading yet: a pty buffers a little, then EAGAIN; the next tick tries again
    }
  }, 50)
  const config = join(dir, 'device.json')
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      recipients: [RECIPIENT],
      intervalSeconds: duty ? 3 : 0.05,
      statusIntervalSeconds: 0,
      sensors: [
        duty
          ? { id: 'pm', type: 'pms5003', port: ttyA, duty: { warmupSeconds: 0.5, windowSeconds: 1 } }
          : { id: 'pm', type: 'pms5003', port: ttyA, warmupSeconds: 0 },
      ],
    }),
  )
  const sub = mqtt.connect(mqttUrl, { clientId: `bench-sub-${process.pid}` })
  await new Promise<void>((r) => sub.once('connect', () => sub.subscribe(RECIPIENT, { qos: 1 }, () => r())))
  let onMessage: (() => void) | undefined
  sub.on('message', () => onMessage?.())
  const rows: Row[] = []
  const entries = [
    { impl: 'dist/daneel-device.js (esbuild bundle)', path: join(root, 'dist', 'daneel-device.js') },
    { impl: 'build/cli/commands/run.js (tsc output, node_modules)', path: join(root, 'build', 'cli', 'commands', 'run.js') },
  ].filter((e, i) => existsSync(e.path) && !(duty && i > 0))
  const runs = duty ? 1 : RUNS
  try {
    for (const e of entries) {
      const times: number[] = []
      for (let run = 0; run < runs; run++) {
        const env = {
          ...process.env,
          DANE_ID: SENDER,
          CRYPTO_PATH: crypto,
          DANEEL_STATE: join(dir, `state-${run}`),
          MQTT_URL: mqttUrl,
          DNS_SERVER: dns.address,
          DNSSEC_TRUST_ANCHORS: anchors,
          LOG_LEVEL: 'warn',
        }
        const got = new Promise<number>((resolve) => {
          onMessage = () => resolve(performance.now())
        })
        const t0 = performance.now()
        const child: ChildProcess = spawn(process.execPath, [...flags, e.path, '--config', config], {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        })
        let stderr = ''
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d
        })
        const exited = new Promise<void>((r) => child.once('exit', () => r()))
        const t1 = await Promise.race([got, exited.then(() => Number.NaN), sleep(30_000).then(() => Number.NaN)])
        onMessage = undefined
        if (run === 0 && !Number.isNaN(t1)) {
          // The running runtime's memory after 10 s of readings every 50 ms (VmRSS now, VmHWM its peak).
          await sleep(10_000)
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
          const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)
          rows.push({
            measure: duty ? 'running runtime RSS after 10 s, duty cycling on (peak)' : 'running runtime RSS after 10 s (peak)',
            impl: e.impl,
            value: Math.round(kb('VmRSS') / 102.4) / 10,
            unit: 'MB',
            note: `peak ${Math.round(kb('VmHWM') / 102.4) / 10} MB; goal <= 64; flags ${flags.join(' ')}`,
          })
        }
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(5000)])
        if (Number.isNaN(t1)) throw new Error(`${e.impl} published nothing: ${stderr.slice(-1500)}`)
        times.push(t1 - t0)
      }
      times.sort((a, b) => a - b)
      if (!duty)
        rows.push({
          measure: 'start to first published reading (median)',
          impl: e.impl,
          value: Math.round(times[Math.floor(RUNS / 2)] as number),
          unit: 'ms',
          note: `${RUNS} runs, min ${Math.round(times[0] as number)}; DNSSEC lookup + real pty + Mosquitto`,
        })
    }
  } finally {
    clearInterval(feeder)
    closeSync(fd)
    socat.kill('SIGTERM')
    await sub.endAsync(true)
    await dns.close()
  }
  return rows
}
