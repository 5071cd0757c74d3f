/** The status messages the device loop seals into its stream: one per sensor health change, and a periodic summary. */
import type { SensorStatus } from '../sensors/driver.js'
import type { LaserReport } from './laser-hours.js'

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

/**
 * The retained presence topic: `online` while connected, `offline` (the MQTT last will, or a clean stop) otherwise.
 * Plain text, not sealed: whether a node is connected is what the broker knows anyway. Under `daneel/`, which no DNS
 * name (the readings' topics) can collide with, since names have no '/'.
 */
export const presenceTopic = (sender: string): string => `daneel/presence/${sender}`

/** What the node says about itself in every summary: software version and messages waiting in the outbox. */
export interface SummaryExtra {
  readonly version?: string
  readonly outbox?: number
  /** Messages kept because they cannot be sealed yet (clock, recipient key), and those the bound dropped. */
  readonly held?: number
  readonly heldDropped?: number
  /** Held messages found at start-up from before the last reboot: dropped, their time unrecoverable (held-store.ts). */
  readonly heldLostReboot?: number
  /** Laser-on hours of the PM sensors and their rated life left (laser-hours.ts). */
  readonly lasers?: readonly LaserReport[]
}

/** `{ status: { version, uptimeS, readings, outbox, sensors: [...] } }`: every statusIntervalSeconds (allocates; it is rare). */
export function summaryStatus(uptimeMs: number, readings: number, sensors: readonly SensorStatus[], extra: SummaryExtra = {}): object {
  return {
    status: {
      ...(extra.version === undefined ? {} : { version: extra.version }),
      uptimeS: Math.round(uptimeMs / 1000),
      readings,
      ...(extra.outbox === undefined ? {} : { outbox: extra.outbox }),
      ...(extra.held === undefined ? {} : { held: extra.held, heldDropped: extra.heldDropped ?? 0 }),
      ...(extra.heldLostReboot === undefined || extra.heldLostReboot === 0 ? {} : { heldLostReboot: extra.heldLostReboot }),
      ...(extra.lasers === undefined || extra.lasers.length === 0 ? {} : { lasers: extra.lasers }),
      sensors: sensors.map((st) => ({
        sensor: st.id,
        model: st.model,
        health: st.health,
        state: st.state,
        frames: st.frames,
        faults: st.faults,
        fault: st.lastFault,
        ...(st.chip === undefined ? {} : { chip: { ...st.chip } }),
      })),
    },
  }
}
