/** A streaming frame parser for fixed-header serial protocols that resyncs byte by byte and never allocates per byte. */
import type { SensorFault } from './driver.js'

/** `frameLength` answers: need more bytes, or buf[0] cannot start a frame (silent: noise), or a bad length (a fault). */
export const NEED_MORE = 0
export const NOT_A_START = -1
export const BAD_LENGTH = -2

/** A protocol's framing rules. Implementations are stateless constant objects. */
export interface FrameFormat {
  /** The longest frame; the scanner's buffer size. */
  readonly maxLength: number
  /**
   * Look at the first `fill` bytes of a candidate starting at buf[0]: return the whole frame's length once it is
   * known and plausible, NEED_MORE, NOT_A_START (wrong start bytes) or BAD_LENGTH (start bytes right, length wrong).
   */
  frameLength(buf: Uint8Array, fill: number): number
  /** Check a complete candidate of `len` bytes: null if valid, else the fault. */
  verify(buf: Uint8Array, len: number): SensorFault | null
}

/** Receives frames and faults; drivers implement it themselves so no closure is created. */
export interface FrameSink {
  /** A verified frame in buf[0..len); only valid during the call. */
  onFrame(buf: Uint8Array, len: number): void
  onFrameFault(code: SensorFault): void
}

/**
 * Why byte by byte: a scanner that skips a whole candidate after a failure, or reads two bytes at a time, can lock onto
 * the wrong offset (ESPEasy#976, pimoroni/pms5003-python#5). After any failed length or checksum check we drop exactly
 * ONE byte and rescan what is buffered, so a real frame that began inside the rejected candidate is still found: e.g.
 * the PMS5003 frame whose checksum ends in 0x42 right before the next 0x42 0x4D (Adafruit_PM25AQI#22).
 * Every candidate is decided as soon as its last byte arrives, so the buffer never holds more than `maxLength`
 * bytes and a garbage candidate can cost at most the one frame it overlaps ("resync within one frame").
 */
export class FrameScanner {
  private readonly format: FrameFormat
  private readonly sink: FrameSink
  private readonly buf: Uint8Array
  private fill = 0
  /** Bytes discarded as not belonging to any valid frame (noise, rejected candidates' first bytes). */
  droppedBytes = 0

  constructor(format: FrameFormat, sink: FrameSink) {
    this.format = format
    this.sink = sink
    this.buf = new Uint8Array(format.maxLength)
  }

  /** Forget any partial frame (after a mode switch, the in-flight frame is stale). */
  reset(): void {
    this.droppedBytes += this.fill
    this.fill = 0
  }

  /** Feed received bytes (any split: one byte, part of a frame, many frames). */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      this.buf[this.fill++] = chunk[i] as number
      this.scan()
    }
  }

  private scan(): void {
    const { format, buf } = this
    while (this.fill > 0) {
      const n = format.frameLength(buf, this.fill)
      if (n === NEED_MORE) return
      if (n < 0) {
        if (n === BAD_LENGTH) this.sink.onFrameFault('E_LENGTH')
        this.drop(1)
        continue
      }
      if (this.fill < n) return
      const fault = format.verify(buf, n)
      if (fault === null) {
        this.sink.onFrame(buf, n)
        this.shift(n)
      } else {
        this.sink.onFrameFault(fault)
        this.drop(1)
      }
    }
  }

  private drop(k: number): void {
    this.droppedBytes += k
    this.shift(k)
  }

  private shift(k: number): void {
    if (k < this.fill) this.buf.copyWithin(0, k, this.fill)
    this.fill -= k
  }
}
