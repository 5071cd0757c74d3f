/** QoS 1 PUBLISH and PUBACK packets encoded by us and written to MQTT.js's socket: a cached topic part per recipient, the payload never copied. */
import type { MqttClient } from 'mqtt'

/*
 * Why: MQTT.js's publish() allocates about 9.5 KB per message (a packet object, a deep clone of it and of the
 * payload for its store, a generated packet written as several chunks): more than the rest of a device's
 * reading (bench/device). The sender never uses MQTT.js's store anyway (our outbox decides what is sent again:
 * sender.ts), so it hands a QoS 1 PUBLISH to the socket itself:
 *   fixed header 0x32 (PUBLISH, QoS 1, no DUP, no RETAIN) and the remaining length (MQTT 3.1.1 and 5.0 §2.1),
 *   topic (two-byte length + UTF-8, cached per topic), packet identifier, MQTT 5 property length 0 (§3.3.2.3),
 *   then the payload, as the buffer the outbox holds: two writes, corked into one writev.
 * Packet identifiers come from MQTT.js's own provider, and the entries in `client.outgoing` and in its store are
 * the ones its publish() makes (the stored packet refers to the payload, no clone), so its PUBACK handling
 * (handlers/ack.js) calls back and frees the identifier as for its own packets (mqtt is pinned in package.json;
 * test/messaging/publish-frame.test.ts and the zero-loss tests fail if this changes). A disconnect is handled by
 * the sender (every outgoing entry removed, the outbox rewound).
 */
const PUBLISH_QOS1 = 0x32
/** MQTT.js's Store.del() when it holds nothing for the identifier (not expected: the packet is stored): acknowledged all the same. */
const NOT_IN_STORE = 'missing packet'

type Done = (err?: Error | null) => void

interface ClientInternals {
  messageIdProvider: { allocate(): number | null }
  outgoing: Record<number, { volatile: boolean; cmd: string; cb: (err?: Error | null, packet?: unknown) => void }>
  outgoingStore: { put(packet: object): unknown }
  stream?: { writable?: boolean; cork(): void; uncork(): void; write(b: Uint8Array): boolean }
  options: { protocolVersion?: number }
}

const PUBACK = 0x40
/** Streams corked until the end of this tick: a run of PUBACKs goes out in one write. */
const corked = new WeakSet<object>()

/**
 * Writes the PUBACK for packet `id` (§3.4): 0x40, remaining length 2, the identifier. In MQTT 5 a reason code
 * 0 (success) with no properties may be left out (§3.4.2.1), so the packet is the same 4 bytes in both
 * versions. MQTT.js's own _sendPacket would generate it in four small writes and allocate ten times as much.
 * False when the socket is gone (the broker redelivers the message on the next connection).
 */
export function writePuback(client: MqttClient, id: number): boolean {
  const stream = (client as unknown as ClientInternals).stream
  if (stream === undefined || stream.writable === false) return false
  const b = Buffer.allocUnsafe(4)
  b[0] = PUBACK
  b[1] = 2
  b[2] = id >>> 8
  b[3] = id & 0xff
  if (!corked.has(stream)) {
    corked.add(stream)
    stream.cork()
    process.nextTick(() => {
      corked.delete(stream)
      stream.uncork()
    })
  }
  stream.write(b)
  return true
}

export class FramePublisher {
  readonly #topics = new Map<string, Buffer>()

  /** Publishes at QoS 1; `done` runs on PUBACK (null) or with an error. Falls back to MQTT.js when its socket is not there. */
  publish(client: MqttClient, topic: string, payload: Buffer, done: Done): void {
    const c = client as unknown as ClientInternals
    const stream = c.stream
    if (stream === undefined || stream.writable === false || !client.connected) {
      client.publish(topic, payload, { qos: 1 }, done)
      return
    }
    const id = c.messageIdProvider.allocate()
    if (id === null) {
      client.publish(topic, payload, { qos: 1 }, done) // every identifier in use: MQTT.js queues it
      return
    }
    const t = this.#topic(topic)
    const v5 = c.options.protocolVersion === 5 ? 1 : 0
    const remaining = t.length + 2 + v5 + payload.length
    const lenBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4
    const head = Buffer.allocUnsafe(1 + lenBytes + t.length + 2 + v5)
    head[0] = PUBLISH_QOS1
    let at = 1
    for (let r = remaining; ; ) {
      const byte = r & 0x7f
      r >>>= 7
      head[at++] = r > 0 ? byte | 0x80 : byte
      if (r === 0) break
    }
    at += t.copy(head, at)
    head[at++] = id >>> 8
    head[at++] = id & 0xff
    if (v5 === 1) head[at] = 0
    c.outgoingStore.put({ cmd: 'publish', topic, payload, qos: 1, messageId: id, retain: false, dup: false })
    c.outgoing[id] = {
      volatile: false,
      cmd: 'publish',
      cb: (err) => done(err !== undefined && err !== null && err.message !== NOT_IN_STORE ? err : null),
    }
    stream.cork()
    stream.write(head)
    stream.write(payload)
    stream.uncork()
  }

  /** Two-byte length and UTF-8 topic name (§1.5.3), encoded once per topic: one per recipient. */
  #topic(topic: string): Buffer {
    let t = this.#topics.get(topic)
    if (t === undefined) {
      const name = Buffer.from(topic, 'utf8')
      t = Buffer.allocUnsafe(2 + name.length)
      t.writeUInt16BE(name.length, 0)
      name.copy(t, 2)
      if (this.#topics.size >= 64) this.#topics.clear() // a device has a handful of recipients; stay bounded
      this.#topics.set(topic, t)
    }
    return t
  }
}
