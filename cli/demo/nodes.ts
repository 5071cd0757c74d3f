/** The demo's simulated air-quality nodes: the real device runtime (device/start.ts) on fake UARTs driven by the chips' emulators. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DeviceHal } from '../../device/drivers.js'
import type { RunningDevice } from '../../device/runtime.js'
import { startDeviceFromConfig } from '../../device/start.js'
import { FakeGpio } from '../../sensors/fakes/fake-gpio.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { Mhz19bEmulator } from '../../sensors/fakes/mhz19b-emulator.js'
import { Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { Sds011Emulator } from '../../sensors/fakes/sds011-emulator.js'
import { systemTimerClock } from '../../sensors/hal.js'
import { requireDaneId, resolveSettings } from '../../settings/settings.js'
import type { TlsaSource } from '../../src/dane/discover.js'
import type { Logger } from '../../src/log.js'
import type { Air } from './air.js'

export interface NodeSpec {
  readonly name: string
  /** 'pms5003' or 'sds011' for particulates; every node also has an MH-Z19B. */
  readonly particulate: 'pms5003' | 'sds011'
  /** Also a Shinyei PPD42NS on a (fake) GPIO pin. */
  readonly ppd42ns?: boolean
  readonly air: Air
}

export interface DemoNode {
  readonly name: string
  readonly device: RunningDevice
  stop(): Promise<void>
}

const PM_PORT = '/dev/demo-pm'
const CO2_PORT = '/dev/demo-co2'

/** A HAL whose UARTs are played by the chips' emulators, fed the node's simulated air. */
function emulatedHal(spec: NodeSpec, closers: Array<() => void>): DeviceHal {
  return {
    async uart(port) {
      const uart = new FakeUart()
      const t = systemTimerClock
      if (port === PM_PORT && spec.particulate === 'pms5003') {
        const e = new Pms5003Emulator(uart, t, { frames: () => spec.air.pmsFrame(), periodMs: 1000 })
        closers.push(() => e.close())
      } else if (port === PM_PORT) {
        const e = new Sds011Emulator(uart, t, { frames: () => spec.air.sdsFrame(), periodMs: 1000 })
        closers.push(() => e.close())
      } else {
        const e = new Mhz19bEmulator(uart, t, { frames: () => spec.air.mhzFrame() })
        closers.push(() => e.close())
      }
      return uart
    },
    async gpio() {
      // The PPD42NS pulls its output low while a particle crosses the beam: low pulses of a few ms, more of them
      // in dirtier air. Every 100 ms one pulse whose length tracks the node's PM2.5 (about 1-6 % occupancy).
      const pin = new FakeGpio(1)
      const timer = setInterval(() => {
        const nowUs = performance.now() * 1000
        const lowUs = Math.round((0.5 + spec.air.pm25 / 12) * 1000 * (0.8 + Math.random() * 0.4))
        pin.set(0, nowUs)
        pin.set(1, nowUs + lowUs)
      }, 100)
      timer.unref()
      closers.push(() => clearInterval(timer))
      return pin
    },
    iio: (spec) => Promise.reject(new Error(`the demo has no IIO device ${spec}`)),
  }
}

/** Starts one node: writes its config, then runs the same code path as `daneel run --config FILE`. */
export async function startNode(
  spec: NodeSpec,
  opts: {
    dir: string
    cryptoPath: string
    recipient: string
    mqttUrl: string
    dns: string
    anchors: string
    tlsa: TlsaSource
    log: Logger
    intervalSeconds: number
  },
): Promise<DemoNode> {
  const configPath = join(opts.dir, `${spec.name.split('.')[0]}.json`)
  const config = {
    $comment: 'written by daneel demo',
    version: 1,
    recipients: [opts.recipient],
    intervalSeconds: opts.intervalSeconds,
    statusIntervalSeconds: 0,
    drainSeconds: 2,
    sensors: [
      { id: 'pm', type: spec.particulate, port: PM_PORT, warmupSeconds: 1 },
      { id: 'co2', type: 'mhz19b', port: CO2_PORT, warmupSeconds: 1 },
      ...(spec.ppd42ns === true
        ? [
            {
              id: 'dust',
              type: 'ppd42ns',
              pin: 17,
              warmupSeconds: 1,
              intervalSeconds: Math.max(1, opts.intervalSeconds),
              windowSeconds: Math.max(1, opts.intervalSeconds),
            },
          ]
        : []),
    ],
  }
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`)
  // Settings as a real node's environment would give them, but never read from this process's environment.
  const settings = resolveSettings(
    {
      'dane-id': spec.name,
      'crypto-path': opts.cryptoPath,
      state: join(opts.dir, `${spec.name.split('.')[0]}-state`),
      'mqtt-url': opts.mqttUrl,
      dns: opts.dns,
      'trust-anchors': opts.anchors,
    },
    {},
  )
  const closers: Array<() => void> = []
  const device = await startDeviceFromConfig({ ...settings, daneId: requireDaneId(settings) }, configPath, {
    tlsa: opts.tlsa,
    hal: emulatedHal(spec, closers),
    log: opts.log,
    mqttProtocol: 4,
  })
  return {
    name: spec.name,
    device,
    async stop(): Promise<void> {
      await device.stop()
      for (const c of closers) c()
    },
  }
}
