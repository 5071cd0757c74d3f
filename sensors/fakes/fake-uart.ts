/** A fake Uart: the test (or a chip emulator) plays the sensor's side of the byte stream and sees what the driver writes. */
import type { DataListener, ErrorListener, Uart } from '../hal.js'

export class FakeUart implements Uart {
  /** Every write from the driver, in order (copies). */
  readonly written: Uint8Array[] = []
  /** Called on each driver write: emulators answer commands here. */
  onWrite: ((bytes: Uint8Array) => void) | null = null
  closed = false
  private data: DataListener | null = null
  private error: ErrorListener | null = null

  onData(listener: DataListener | null): void {
    this.data = listener
  }

  onError(listener: ErrorListener | null): void {
    this.error = listener
  }

  /** Writes attempted after close (dropped, as LinuxUart drops them). */
  writesAfterClose = 0

  write(bytes: Uint8Array): void {
    if (this.closed) {
      this.writesAfterClose++
      return
    }
    const copy = Uint8Array.from(bytes)
    this.written.push(copy)
    this.onWrite?.(copy)
  }

  close(): void {
    this.closed = true
  }

  /** The sensor sends bytes (delivered synchronously, as one chunk). Dropped if nobody listens, like a real line. */
  deliver(bytes: Uint8Array | readonly number[]): void {
    if (this.data === null || this.closed) return
    this.data(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes))
  }

  /** The line fails (unplugged adapter, read error). */
  fail(err: Error): void {
    this.error?.(err)
  }

  /** True while a driver listens. */
  get listening(): boolean {
    return this.data !== null
  }

  /** All writes joined, as lower-case hex (for assertions). */
  writtenHex(): string[] {
    return this.written.map((b) => Buffer.from(b).toString('hex'))
  }
}
