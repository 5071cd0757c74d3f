/** PPD42NS low-pulse occupancy: sum LOW time from timestamped edges, convert with the published curve (pure). */

/**
 * Chris Nafis's fit of the Shinyei datasheet curve, used by the Seeed Grove demo (Grove_Dust_Sensor.ino):
 * concentration [particles per 0.01 ft³] = 1.1 r³ − 3.8 r² + 520 r + 0.62, with r the LOW-time percentage.
 */
export function ppdConcentration(ratioPct: number): number {
  const r = ratioPct
  return 1.1 * r * r * r - 3.8 * r * r + 520 * r + 0.62
}

/**
 * Mass estimate (Drexel University 2009, as used by andy-pi/weather-monitor): spheres of density 1.65e12 µg/m³ and
 * radius 0.44 µm (PM2.5 channel) or 2.60 µm (PM10 channel); 0.01 ft³ × 3531.5 = 1 m³. An approximation with no
 * humidity correction: label it as such wherever it is shown.
 */
export function ppdMassUgM3(particlesPer001Ft3: number, channel: 'pm25' | 'pm10'): number {
  const r = channel === 'pm25' ? 0.44e-6 : 2.6e-6
  const volume = (4 / 3) * Math.PI * r * r * r
  return particlesPer001Ft3 * 3531.5 * 1.65e12 * volume
}

/**
 * Accumulates LOW time from (level, timeUs) edges. A pulse counts when it ends (its rising edge), so a pulse that
 * straddles a window boundary lands wholly in the next window: pulses are 10-90 ms against a 30 s window, an error
 * under 0.3% at worst. Missed edges (two falls in a row) keep the first fall. No allocation.
 */
export class LowPulseAccumulator {
  /** Summed LOW time in µs since the last take(). */
  lowUs = 0
  /** Completed low pulses since the last take(). */
  pulses = 0
  /** Edges seen since the last take() (a window with none tells "stuck" from "clean air" via the level). */
  edges = 0
  /** The last known level (from reset or the latest edge). */
  level: 0 | 1 = 1
  /** Counting a pulse: only after a falling edge we saw, so a pulse already under way at start is not guessed at. */
  private low = false
  private lowStartUs = 0

  /** Seed the current level (at start, from Gpio.read()). */
  reset(level: 0 | 1): void {
    this.level = level
    this.low = false
    this.lowUs = 0
    this.pulses = 0
    this.edges = 0
  }

  edge(level: 0 | 1, timeUs: number): void {
    this.edges++
    this.level = level
    if (level === 0) {
      if (!this.low) {
        this.low = true
        this.lowStartUs = timeUs
      }
    } else if (this.low) {
      this.low = false
      const d = timeUs - this.lowStartUs
      if (d > 0) {
        this.lowUs += d
        this.pulses++
      }
    }
  }

  /** Start a new window (keeps the current level and an open pulse's start). */
  take(): void {
    this.lowUs = 0
    this.pulses = 0
    this.edges = 0
  }
}
