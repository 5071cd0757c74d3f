/** The BME280's raw RH and temperature ride with the node's PM readings, and the gateway corrects PM2.5 (EPA 2021) from them. */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseConfig } from '../../device/config.js'
import { type DeviceHal, openSensors } from '../../device/drivers.js'
import { HumidityRideAlong, RIDE_ALONG_MAX_INTERVALS } from '../../device/humidity-ride-along.js'
import { DeviceLoop } from '../../device/loop.js'
import { HOUR_MS } from '../../gateway/aqi/node-aqi.js'
import { createGatewayHttp } from '../../gateway/http/server.js'
import { toIncoming } from '../../gateway/incoming.js'
import { Ingest } from '../../gateway/ingest.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeIio } from '../../sensors/fakes/fake-iio.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { encodePmsFrame, Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { Readings } from '../../sensors/readings.js'
import { fixedClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { createLogger } from '../../src/log.js'
import { identity, openerFor, sealerFor } from '../../testkit/message-fixtures.js'
import { makeTempDir } from '../../testkit/paths.js'
import { memorySequence } from './loop-fakes.js'

const tmp = makeTempDir('daneel-ride-along-')
after(() => tmp.cleanup())

/** CF=1 PM2.5 40 µg/m³ (atmospheric 30), so the corrected value differs from both. */
const FRAME = encodePmsFrame({
  pm1Cf1: 25,
  pm25Cf1: 40,
  pm10Cf1: 50,
  pm1: 20,
  pm25: 30,
  pm10: 40,
  n03: 1000,
  n05: 300,
  n1: 150,
  n25: 40,
  n5: 5,
  n10: 1,
})
/** As the kernel's bmp280 IIO driver prints them (name bme280): 23.45 °C, 1009.05 hPa, 61.5 %RH (milli-%). */
const BME_TEXT = { in_temp_input: '23450\n', in_pressure_input: '100.904531250\n', in_humidityrelative_input: '61500\n' }
/** The EPA 2021 formula (Barkjohn et al. 2021, AMT 14, 4617, cf1 <= 343) written out here, not taken from gateway code. */
const EXPECTED_CORRECTED = 0.52 * 40 - 0.086 * 61.5 + 5.75

const config = parseConfig({
  version: 1,
  recipients: ['gateway01.airquality._device.example.com'],
  statusIntervalSeconds: 0,
  sensors: [
    { id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', intervalSeconds: 5, warmupSeconds: 1 },
    { id: 'climate', type: 'bme280', iio: 'iio:device0', intervalSeconds: 10 },
  ],
})

/** A node: the real PMS5003 and BME280 drivers on fakes, the real loop; sealed messages collected. */
async function node(seal: (claims: object, ctx: { now: number; seq: number }) => string | Uint8Array) {
  const clock = new FakeClock(0)
  const iio = new FakeIio('bme280', BME_TEXT)
  let chip: Pms5003Emulator | undefined
  const hal: DeviceHal = {
    uart: async () => {
      const u = new FakeUart()
      chip = new Pms5003Emulator(u, clock, { frames: [FRAME], periodMs: 1000 })
      return u
    },
    gpio: () => Promise.reject(new Error('no gpio')),
    iio: async () => iio,
  }
  const set = await openSensors(config, hal, clock, () => {})
  const sent: Array<string | Uint8Array> = []
  const loop = new DeviceLoop({
    sensors: set.sensors,
    recipients: [{ name: config.recipients[0] as string, sealer: { seal } }],
    outbox: { append: (_t, p) => sent.push(p) },
    sequence: memorySequence(),
    clock: fixedClock(WALL),
    timers: clock,
    log: createLogger({ level: 'silent' }),
    statusIntervalMs: 0,
  })
  loop.start()
  /** Advances fake time in 250 ms steps, letting the BME's async attribute reads settle in between. */
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 250) {
      clock.advance(250)
      await new Promise((r) => setImmediate(r))
    }
  }
  const stop = (): void => {
    loop.stop()
    set.close()
    chip?.close()
  }
  return { iio, sent, advance, stop }
}

/** The wall time the node stamps: 10 minutes into an hour, so a gateway an hour later has it in its last complete hour. */
const WALL = Date.UTC(2026, 10, 25, 21, 10, 0)

describe('raw humidity rides with the PM readings', () => {
  it('unit: kept from a BME280/680 (not a BMP280), added to PM readings for two of its intervals, never over their own', () => {
    const ride = new HumidityRideAlong()
    const bme = new Readings()
    bme.temperature = 21.5
    bme.humidity = 55
    const pm = new Readings()
    pm.pm25 = 9
    assert.equal(ride.take(pm, 'pms5003', 5000, 0), false, 'nothing kept yet')
    assert.ok(Number.isNaN(pm.humidity))
    const bmp = new Readings()
    bmp.temperature = 20
    assert.equal(ride.take(bmp, 'bmp280', 10_000, 0), false)
    assert.equal(ride.take(pm, 'pms5003', 5000, 1), false, 'a BMP280 has no humidity: nothing to add')
    ride.take(bme, 'bme280', 10_000, 1000)
    assert.equal(ride.take(pm, 'sds011', 5000, 1000 + RIDE_ALONG_MAX_INTERVALS * 10_000), true)
    assert.deepEqual([pm.humidity, pm.temperature], [55, 21.5])
    const late = new Readings()
    late.pm10 = 4
    assert.equal(ride.take(late, 'sds011', 5000, 1001 + RIDE_ALONG_MAX_INTERVALS * 10_000), false, 'older than two intervals')
    const own = new Readings()
    own.pm25 = 3
    own.humidity = 80
    assert.equal(ride.take(own, 'pms5003', 5000, 2000), false)
    assert.equal(own.humidity, 80, "a chip's own humidity is kept")
    const co2 = new Readings()
    co2.co2 = 500
    assert.equal(ride.take(co2, 'mhz19b', 5000, 2000), false, 'only PM readings')
  })

  it('through the loop: PM readings carry the BME280 values while fresh, and lose them once it has stopped answering', async () => {
    const n = await node((claims, { seq }) => JSON.stringify({ seq, ...claims }))
    try {
      await n.advance(30_000)
      const msgs = n.sent.map((p) => JSON.parse(String(p)) as { sensor: string; values: Record<string, number> })
      const pm = msgs.filter((m) => m.sensor === 'pm')
      assert.ok(pm.length >= 4, `PM readings: ${pm.length}`)
      const bmeSeen = msgs.findIndex((m) => m.sensor === 'climate')
      assert.ok(bmeSeen >= 0)
      for (const m of msgs.slice(bmeSeen + 1).filter((x) => x.sensor === 'pm')) {
        assert.deepEqual(m.values, {
          pm1: 20,
          pm25: 30,
          pm10: 40,
          pm1Cf1: 25,
          pm25Cf1: 40,
          pm10Cf1: 50,
          n03: 1000,
          n05: 300,
          n1: 150,
          n25: 40,
          n5: 5,
          n10: 1,
          temperature: 23.45,
          humidity: 61.5,
        })
      }
      // The BME280 stops answering (I²C bus stuck): after two of its intervals (20 s) PM readings go out without RH.
      const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
      for (const a of Object.keys(BME_TEXT)) n.iio.attrs.set(a, eio)
      const before = n.sent.length
      await n.advance(40_000)
      const tail = n.sent.slice(before).map((p) => JSON.parse(String(p)) as { sensor: string; values?: Record<string, number> })
      const lastPm = tail.filter((m) => m.sensor === 'pm').at(-1)
      assert.ok(lastPm?.values !== undefined)
      assert.equal(lastPm.values.humidity, undefined, 'a stale humidity does not ride along')
      assert.equal(lastPm.values.pm25Cf1, 40)
    } finally {
      n.stop()
    }
  })

  it("end to end: sealed by the node, opened and stored by the gateway, /api/nodes?correction=epa-2021 gives EPA's corrected PM2.5 from the PM rows alone", async () => {
    const provider = getProvider('node')
    const from = identity('n1.airquality._device.example.com', 'p256')
    const to = identity(config.recipients[0] as string, 'p256')
    const sealer = sealerFor(provider, from, to)
    const n = await node((claims, ctx) => sealer.seal(claims, ctx))
    await n.advance(30_000)
    n.stop()
    const opener = openerFor(provider, to, [from], { clock: fixedClock(WALL) })
    const store = new SqliteStore(join(tmp.dir, 'gateway.db'))
    await store.open()
    const ingest = new Ingest({ store, log: () => {} })
    let pmRows = 0
    for (const p of n.sent) {
      const raw = typeof p === 'string' ? new TextEncoder().encode(p) : p
      const m = toIncoming(await opener.open(raw), raw, WALL)
      // Only the PM sensor's rows reach the store: the correction must come from the humidity that rode along.
      if (m.sensor !== 'pm') continue
      pmRows++
      ingest.push(m, () => {})
    }
    assert.ok(pmRows >= 4)
    await ingest.flush()
    const http = createGatewayHttp({ store, health: () => ({ ok: true }), metrics: () => '', now: () => WALL + HOUR_MS })
    const { port } = await http.listen('127.0.0.1', 0)
    try {
      const nodes = async (q: string) =>
        JSON.parse(await get(port, `/api/nodes?${q}`)) as {
          node: string
          aqi: { pollutants: { pm25?: { concentration: number } }; corrected: string | null }
        }[]
      const [corrected] = await nodes('index=caqi&correction=epa-2021')
      assert.equal(corrected?.node, from.name)
      assert.ok(
        Math.abs((corrected?.aqi.pollutants.pm25?.concentration ?? Number.NaN) - EXPECTED_CORRECTED) < 1e-9,
        JSON.stringify(corrected?.aqi),
      )
      assert.match(corrected?.aqi.corrected ?? '', /EPA 2021/)
      const [plain] = await nodes('index=caqi&correction=none')
      assert.equal(plain?.aqi.pollutants.pm25?.concentration, 30, 'uncorrected: the atmospheric PM2.5')
      assert.equal(plain?.aqi.corrected, null)
    } finally {
      await http.close()
      await ingest.close()
      await store.close()
    }
  })
})

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    })
      .on('error', reject)
      .end()
  })
}
