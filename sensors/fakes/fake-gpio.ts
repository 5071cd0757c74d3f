/** A fake Gpio driven by a level script: the test plays edges with timestamps and the driver sees them as from a pin. */
import type { EdgeListener, EdgeMode, Gpio, Level } from '../hal.js'

export class FakeGpio implements Gpio {
  level: Level
  closed = false
  readonly edge: EdgeMode
  private listener: EdgeListener | null = null

  constructor(initial: Level = 1, edge: EdgeMode = 'both') {
    this.level = initial
    this.edge = edge
  }

  read(): Level {
    return this.level
  }

  watch(listener: EdgeListener): void {
    this.listener = listener
  }

  unwatch(): void {
    this.listener = null
  }

  close(): void {
    this.closed = true
    this.listener = null
  }

  get watching(): boolean {
    return this.listener !== null
  }

  /** Set the level at `timeUs`; reports an edge if the level changed and the edge mode includes it. */
  set(level: Level, timeUs: number): void {
    if (level === this.level) return
    this.level = level
    if (this.listener === null) return
    if (this.edge === 'both' || (this.edge === 'rising' && level === 1) || (this.edge === 'falling' && level === 0))
      this.listener(level, timeUs)
  }

  /** Play a train of low pulses: each [startUs, durationUs] drives the pin low then high again. */
  playLowPulses(pulses: ReadonlyArray<readonly [number, number]>): void {
    for (const [start, dur] of pulses) {
      this.set(0, start)
      this.set(1, start + dur)
    }
  }
}
