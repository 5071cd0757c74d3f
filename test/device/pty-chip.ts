/** A chip emulator on the sensor's end of a socat pty, with byte counts at both ends: fake-clock tests wait on bytes, not on time. */
import type { LinuxUart } from '../../device/hal-linux/uart.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import type { StreamingEmulator } from '../../sensors/fakes/streaming-emulator.js'
import type { Uart } from '../../sensors/hal.js'
import type { PtyPair } from './hal-linux/pty-pair.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Bytes on each pty, counted at both ends. After a fake-clock step the test waits until everything the driver wrote
 * has reached its emulator and everything the emulator sent has reached the driver, so what happens on the wire at
 * fake time t is seen at t however loaded the machine (the step order never depends on real time).
 */
export class Wire {
  toChip = 0
  atChip = 0
  toDriver = 0
  atDriver = 0
  get settled(): boolean {
    return this.toChip === this.atChip && this.toDriver === this.atDriver
  }
}

/** The LinuxUart the driver gets, counting what crosses it. */
export function counted(u: LinuxUart, w: Wire): Uart {
  return {
    onData: (fn) =>
      u.onData(
        fn === null
          ? null
          : (chunk) => {
              w.atDriver += chunk.length
              fn(chunk)
            },
      ),
    onError: (fn) => u.onError(fn),
    write: (bytes) => {
      w.toChip += bytes.length
      u.write(bytes)
    },
    close: () => u.close(),
  }
}

export async function settle(wires: readonly Wire[]): Promise<void> {
  const t0 = Date.now()
  await sleep(1)
  while (!wires.every((w) => w.settled)) {
    if (Date.now() - t0 > 10_000) throw new Error(`bytes lost on a pty: ${JSON.stringify(wires)}`)
    await sleep(2)
  }
}

/** An emulator on the sensor's end of a pty pair: what the driver writes reaches it, what it sends reaches the driver. */
export function wire(pair: PtyPair, w: Wire, make: (uart: FakeUart) => StreamingEmulator): StreamingEmulator {
  const uart = new FakeUart()
  uart.onData((chunk) => {
    w.toDriver += chunk.length
    pair.send(chunk)
  })
  const emu = make(uart)
  pair.listen((chunk) => {
    w.atChip += chunk.length
    uart.write(chunk)
  })
  return emu
}
