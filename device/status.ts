/** The status messages the device loop seals into its stream: one per sensor health change, and a periodic summary. */
import type { SensorStatus } from '../sensors/driver.js'

/** `{ status: { sensor, model, health, fault, consecutiveFaults, retryInMs? } }`: sent once per health change. */
export function healthChange(st: SensorStatus, nowMs: number): { status: Record<string, unknown> } {
  const retryMs = Number.isNaN(st.retryAtMs) ? undefined : Math.max(0, Math.round(st.retryAtMs - nowMs))
  return {
    status: {
      sensor: st.id,
      model: st.model,
      health: st.health,
      fault: st.lastFault,
      consecutiveFaults: st.consecutiveFaults,
      ...(st.health === 'failed' && retryMs !== undefined ? { retryInMs: retryMs } : {}),
    },
  }
}

/** `{ status: { uptimeS, readings, sensors: [...] } }`: every statusIntervalSeconds (allocates; it is rare). */
export function summaryStatus(uptimeMs: number, readings: number, sensors: readonly SensorStatus[]): object {
  return {
    status: {
      uptimeS: Math.round(uptimeMs / 1000),
      readings,
      sensors: sensors.map((st) => ({
        sensor: st.id,
        model: st.model,
        health: st.health,
        state: st.state,
        frames: st.frames,
        faults: st.faults,
        fault: st.lastFault,
      })),
    },
  }
}
