/** The shared binding of every UART sensor: framing, warm-up, polling, timeouts and health around a chip's decoder. */
import type { SampleResult, SensorFault, SensorStatus, SleepingDriver } from './driver.js'
import { type FrameFormat, FrameScanner, type FrameSink } from './frame-scanner.js'
import type { DataListener, ErrorListener, TimerClock, Uart } from './hal.js'
import { type HealthOptions, newStatus, SensorHealth } from './health.js'
import type { ReadingFields } from './readings.js'

export interface UartSensorOptions extends HealthOptions {
  /** The sensor's id in the config and the published status. */
  id: string
  /** Readings are discarded for this long after start/wake (defaults per chip). */
  warmupMs?: number
  /** No valid reading for this long while running is an E_TIMEOUT fault (defaults per chip). */
  timeoutMs?: number
}

/** What a chip makes of one verified frame. */
export type FrameKind = 'reading' | 'other' | SensorFault

/**
 * Subclasses supply the chip: the frame format, what a frame means (handleFrame), how to copy the latest reading out
 * (writeReading) and the wake/sleep/poll commands. Everything here runs on the loop's thread; frames arrive from the
 * UART's data events, `sample()` is called by the loop, and neither allocates.
 */
export abstract class UartSensor implements SleepingDriver, FrameSink {
  readonly id: string
  abstract readonly model: string
  readonly status: SensorStatus
  protected readonly uart: Uart
  protected readonly clock: TimerClock
  protected readonly health: SensorHealth
  protected readonly scanner: FrameScanner
  private readonly warmupMs: number
  private readonly timeoutMs: number
  private warmUntilMs = Number.NaN
  private lastProgressMs = Number.NaN
  private fresh = false
  private faultPending = false
  private readonly dataListener: DataListener
  private readonly errorListener: ErrorListener

  constructor(
    uart: Uart,
    clock: TimerClock,
    format: FrameFormat,
    model: string,
    opts: UartSensorOptions,
    defaults: { warmupMs: number; timeoutMs: number },
  ) {
    this.id = opts.id
    this.uart = uart
    this.clock = clock
    this.status = newStatus(opts.id, model)
    this.health = new SensorHealth(this.status, clock, opts)
    this.scanner = new FrameScanner(format, this)
    this.warmupMs = opts.warmupMs ?? defaults.warmupMs
    this.timeoutMs = opts.timeoutMs ?? defaults.timeoutMs
    // Two listeners for the driver's lifetime, created here once.
    this.dataListener = (chunk) => this.scanner.push(chunk)
    this.errorListener = () => this.onFrameFault('E_IO')
  }

  /** Wake the chip and set its mode (send commands). */
  protected abstract sendWake(): void
  /** Put the chip to sleep, if it can. */
  protected abstract sendSleep(): void
  /** Decode a verified frame; 'reading' means a new reading is held for writeReading. */
  protected abstract handleFrame(buf: Uint8Array, len: number): FrameKind
  /** Copy the latest reading into the loop's object. */
  protected abstract writeReading(out: ReadingFields): void
  /** Called from sample() while running with no new reading: passive-mode chips send their query here. */
  protected poll(_nowMs: number): void {}

  start(): void {
    if (this.status.state !== 'stopped') return
    this.health.reset()
    this.uart.onData(this.dataListener)
    this.uart.onError(this.errorListener)
    this.begin()
  }

  stop(): void {
    if (this.status.state === 'stopped') return
    this.sendSleep()
    this.uart.onData(null)
    this.uart.onError(null)
    this.status.state = 'stopped'
  }

  /**
   * Duty cycling (SleepingDriver): the sleep command, and nothing counts until wake(). The listeners stay (the sleep
   * acknowledgement still arrives and is ignored); health and its counters carry over to the next window.
   */
  sleep(): void {
    const st = this.status.state
    if (st === 'stopped' || st === 'sleeping') return
    this.sendSleep()
    this.fresh = false
    this.faultPending = false
    this.status.state = 'sleeping'
  }

  /** Duty cycling: the wake command and a new warm-up (frames during it are not readings). */
  wake(): void {
    if (this.status.state !== 'sleeping') return
    this.begin()
  }

  /** (Re)start a measuring cycle: wake, mode, warm-up. */
  private begin(): void {
    this.scanner.reset()
    this.sendWake()
    const now = this.clock.nowMs()
    this.warmUntilMs = now + this.warmupMs
    this.lastProgressMs = now
    this.fresh = false
    this.faultPending = false
    this.status.state = 'warming'
  }

  sample(out: ReadingFields): SampleResult {
    const s = this.status
    if (s.state === 'stopped' || s.state === 'sleeping') return 'stopped'
    if (s.state === 'backoff') {
      if (!this.health.retryDue()) return 'backoff'
      this.begin()
      return 'warming'
    }
    const now = this.clock.nowMs()
    if (s.state === 'warming') {
      if (now < this.warmUntilMs) return 'warming'
      s.state = 'running'
      this.fresh = false
      this.faultPending = false
      this.lastProgressMs = now
    }
    this.poll(now) // passive chips: ask now for the next reading (rate-limited by the chip class)
    if (this.fresh) {
      this.fresh = false
      this.faultPending = false
      this.writeReading(out)
      return 'fresh'
    }
    if (this.faultPending) {
      this.faultPending = false
      return this.faultResult()
    }
    if (now - this.lastProgressMs >= this.timeoutMs) {
      this.lastProgressMs = now
      this.health.fault('E_TIMEOUT')
      return this.faultResult()
    }
    return 'none'
  }

  private faultResult(): SampleResult {
    return this.status.state === 'backoff' ? 'backoff' : 'fault'
  }

  /** FrameSink: a verified frame from the scanner. */
  onFrame(buf: Uint8Array, len: number): void {
    const state = this.status.state
    const kind = this.handleFrame(buf, len)
    if (state !== 'running') return // warm-up frames and frames during backoff are not readings
    if (kind === 'reading') {
      this.fresh = true
      this.lastProgressMs = this.clock.nowMs()
      this.health.good()
    } else if (kind !== 'other') {
      this.onFrameFault(kind)
    }
  }

  /** FrameSink: a bad candidate (checksum, length), or a UART error. Ignored while warming (wake-up garbage). */
  onFrameFault(code: SensorFault): void {
    if (this.status.state !== 'running') return
    this.faultPending = true
    this.health.fault(code)
  }
}
