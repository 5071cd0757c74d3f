/** The device runtime's lifecycle with real signals: SIGTERM drains the outbox (bounded), SIGHUP reloads or keeps the config. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type DeviceConfig, parseConfig } from '../../device/config.js'
import type { ReadingSealer } from '../../device/loop.js'
import { type DeviceParts, DRAIN_BACKLOG, installSignals, type RuntimeOutbox, startDevice } from '../../device/runtime.js'
import { systemTimerClock } from '../../sensors/hal.js'
import { systemClock } from '../../src/clock.js'
import { DaneelError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { memorySequence, ScriptedDriver } from './loop-fakes.js'

const cfg = (over: Record<string, unknown> = {}): DeviceConfig =>
  parseConfig({
    version: 1,
    recipients: ['gw._device.example.com'],
    intervalSeconds: 0.02,
    statusIntervalSeconds: 0,
    drainSeconds: 2,
    sensors: [{ id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', warmupSeconds: 0 }],
    ...over,
  })

/** An outbox whose entries a fake transport acknowledges `ackEveryMs` apart (or never). */
class SlowOutbox implements RuntimeOutbox {
  entries: Array<{ topic: string; payload: string }> = []
  pendingIds = new Set<number>()
  closed = false
  private id = 0
  private timer: NodeJS.Timeout | undefined
  constructor(ackEveryMs: number | undefined) {
    if (ackEveryMs !== undefined) {
      this.timer = setInterval(() => {
        const first = this.pendingIds.values().next()
        if (first.done !== true) this.pendingIds.delete(first.value)
      }, ackEveryMs)
    }
  }
  append(topic: string, payload: Uint8Array): Promise<number> {
    this.entries.push({ topic, payload: Buffer.from(payload).toString() })
    this.pendingIds.add(this.id)
    return Promise.resolve(this.id++)
  }
  get pending(): number {
    return this.pendingIds.size
  }
  async close(): Promise<void> {
    clearInterval(this.timer)
    this.closed = true
  }
}

function parts(outbox: SlowOutbox, config: DeviceConfig, logs: string[], over: Partial<DeviceParts> = {}) {
  const opened: ScriptedDriver[] = []
  let closedSets = 0
  let transportStopped = false
  const sealer = (to: string): ReadingSealer => ({ seal: (r, { seq }) => JSON.stringify({ to, seq, ...r }) })
  const p: DeviceParts = {
    sender: 'node1._device.example.com',
    config,
    outbox,
    transport: {
      stop: async () => {
        transportStopped = true
      },
    },
    sequence: memorySequence(),
    clock: systemClock,
    timers: systemTimerClock,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    openSensors: async (c) => {
      const sensors = c.sensors.map((s) => {
        const d = new ScriptedDriver(s.id, s.type, systemTimerClock, [1, 2, 3])
        opened.push(d)
        return { driver: d, intervalMs: s.intervalSeconds * 1000 }
      })
      return {
        sensors,
        close: () => {
          closedSets++
        },
      }
    },
    sealerFor: async (name) => sealer(name),
    ...over,
  }
  return { p, opened, closedSets: () => closedSets, transportStopped: () => transportStopped }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('SIGTERM stops sampling, drains the outbox, closes everything, exits 0', async () => {
  const outbox = new SlowOutbox(5)
  const logs: string[] = []
  const h = parts(outbox, cfg(), logs)
  const dev = await startDevice(h.p)
  await sleep(150)
  assert.ok(outbox.entries.length >= 3, `only ${outbox.entries.length} readings`)
  const exited = new Promise<number>((resolve) => installSignals(dev, h.p.log, resolve))
  process.kill(process.pid, 'SIGTERM')
  assert.equal(await exited, 0)
  const count = outbox.entries.length
  assert.equal(outbox.pending, 0, 'drained')
  assert.ok(outbox.closed)
  assert.ok(h.transportStopped())
  assert.equal(h.closedSets(), 1)
  assert.equal(h.opened[0]!.stopped, 1, 'the sensor was put to sleep')
  await sleep(60)
  assert.equal(outbox.entries.length, count, 'no readings after the stop')
  assert.ok(logs.some((l) => l.includes('outbox drained')))
  assert.equal(process.listenerCount('SIGTERM'), 0, 'handlers removed')
})

test('the drain is bounded by drainSeconds when the broker never acknowledges', async () => {
  const outbox = new SlowOutbox(undefined)
  const logs: string[] = []
  const h = parts(outbox, cfg({ drainSeconds: 0.3 }), logs)
  const dev = await startDevice(h.p)
  await sleep(60)
  const t0 = Date.now()
  const res = await dev.stop()
  const took = Date.now() - t0
  assert.equal(res.drained, false)
  assert.ok(res.pending > 0)
  // waited for the bound, then gave up (the upper limit is loose: a loaded CI machine must not fail it)
  assert.ok(took >= 250 && took < 10_000, `drain took ${took} ms`)
  assert.ok(logs.some((l) => l.includes('still queued')))
  assert.deepEqual(await dev.stop(), res, 'idempotent')
})

test('a stop does not wait for a backlog: it stays queued (on disk) for the next start', async () => {
  const outbox = new SlowOutbox(50) // the broker acknowledges, slowly: 30 s would drain about 600
  for (let i = 0; i < DRAIN_BACKLOG + 400; i++) await outbox.append('gw._device.example.com', new Uint8Array(1))
  const logs: string[] = []
  const h = parts(outbox, cfg({ drainSeconds: 30 }), logs)
  const dev = await startDevice(h.p)
  const res = await dev.stop()
  assert.equal(res.drained, false)
  assert.ok(res.pending > DRAIN_BACKLOG, `stopped with ${res.pending} still queued, not after draining them`)
  assert.ok(logs.some((l) => l.includes('a backlog is queued: not waiting for it')))
  assert.ok(outbox.closed && h.transportStopped())
})

test('SIGHUP applies a valid new config and keeps the old one (logged once) when the new one is bad', async () => {
  const outbox = new SlowOutbox(1)
  const logs: string[] = []
  let next: () => DeviceConfig = () =>
    cfg({ recipients: ['other._device.example.org'], sensors: [{ id: 'co2', type: 'mhz19b', port: '/dev/ttyS0', warmupSeconds: 0 }] })
  const h = parts(outbox, cfg(), logs, { reloadConfig: () => next() })
  const dev = await startDevice(h.p)
  const remove = installSignals(dev, h.p.log, () => {})
  try {
    await sleep(60)
    process.kill(process.pid, 'SIGHUP')
    await sleep(100)
    assert.deepEqual(dev.config.recipients, ['other._device.example.org'])
    const after = outbox.entries.slice(-2).map((e) => JSON.parse(e.payload))
    assert.ok(after.every((m) => m.to === 'other._device.example.org' && m.sensor === 'co2'))
    assert.equal(h.opened[0]!.stopped, 1, 'the old sensor released')

    next = () => {
      throw new DaneelError('ERR_CONFIG_INVALID', 'config field sensors[0].port: is required')
    }
    const before = outbox.entries.length
    process.kill(process.pid, 'SIGHUP')
    await sleep(30)
    process.kill(process.pid, 'SIGHUP')
    await sleep(80)
    assert.deepEqual(dev.config.recipients, ['other._device.example.org'], 'old config kept')
    assert.ok(outbox.entries.length > before, 'still sampling')
    const rejected = logs.filter((l) => l.includes('config reload rejected'))
    assert.equal(rejected.length, 1, 'logged once for the same reason')
    assert.ok(rejected[0]!.includes('sensors[0].port'))
  } finally {
    remove()
    await dev.stop()
  }
  // Sequence numbers stayed strictly increasing across the reload.
  const seqs = outbox.entries.map((e) => JSON.parse(e.payload).seq as number)
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i),
  )
})

test('a reload whose recipient cannot be looked up keeps the running config', async () => {
  const outbox = new SlowOutbox(1)
  const logs: string[] = []
  const h = parts(outbox, cfg(), logs, {
    reloadConfig: () => cfg({ recipients: ['missing._device.example.com'] }),
    sealerFor: async (name) => {
      if (name.startsWith('missing')) throw new DaneelError('ERR_TLSA_NONE', `no TLSA record at ${name}`)
      return { seal: (r: object, { seq }: { seq: number }) => JSON.stringify({ to: name, seq, ...r }) }
    },
  })
  const dev = await startDevice(h.p)
  try {
    assert.equal(await dev.reload(), false)
    assert.deepEqual(dev.config.recipients, ['gw._device.example.com'])
    assert.ok(logs.some((l) => l.includes('ERR_TLSA_NONE')))
  } finally {
    await dev.stop()
  }
})
