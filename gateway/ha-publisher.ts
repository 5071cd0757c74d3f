/** Publishes Home Assistant discovery (retained, once per node and whenever its sensor set grows) and state after each commit. */
import type { MqttLink } from '../messaging/mqtt.js'
import { discoveryMessage, type HaOptions, type MqttMessage, stateMessage } from './homeassistant.js'
import type { ReadingRow } from './store/types.js'

/*
 * Best effort by design: Home Assistant shows the data, it does not keep the record (the store does). While the
 * HA broker is unreachable nothing queues up; the discovery of every known node is published again on each
 * (re)connect, since the broker may have lost its retained messages.
 */
export class HaPublisher {
  readonly #link: MqttLink
  readonly #opts: HaOptions
  /** node → sensor → { model, keys } as announced */
  readonly #known = new Map<string, Map<string, { model: string | null; keys: Set<string> }>>()
  published = 0

  constructor(link: MqttLink, opts: HaOptions) {
    this.#link = link
    this.#opts = opts
    link.on('up', () => {
      for (const node of this.#known.keys()) this.#announce(node)
    })
  }

  /** Called once per newly stored reading. */
  reading(r: ReadingRow): void {
    if (r.sensor === null) return
    let sensors = this.#known.get(r.node)
    if (sensors === undefined) {
      sensors = new Map()
      this.#known.set(r.node, sensors)
    }
    let s = sensors.get(r.sensor)
    let grew = false
    if (s === undefined) {
      s = { model: r.model, keys: new Set() }
      sensors.set(r.sensor, s)
      grew = true
    }
    for (const k of Object.keys(r.values))
      if (!s.keys.has(k)) {
        s.keys.add(k)
        grew = true
      }
    if (grew) this.#announce(r.node)
    const state = stateMessage(r, this.#opts)
    if (state !== null) this.#send(state)
  }

  #announce(node: string): void {
    const sensors = [...(this.#known.get(node) ?? new Map()).entries()].map(([sensor, s]) => ({
      sensor,
      model: s.model,
      keys: [...s.keys],
    }))
    this.#send(discoveryMessage(node, sensors, this.#opts))
  }

  #send(m: MqttMessage): void {
    if (!this.#link.connected) return
    this.#link.client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }, (err) => {
      if (!err) this.published++
    })
  }
}
