/** At most N opens in flight, the rest waiting in arrival order: the one gate the MQTT and AMQP sides open through. */
import type { Opener } from '../src/message/open.js'

export class OpenGate {
  readonly #opener: Opener
  readonly #concurrency: number
  #opening = 0
  readonly #queue: (() => void)[] = []

  constructor(opener: Opener, concurrency = 8) {
    this.#opener = opener
    this.#concurrency = Math.max(1, concurrency)
  }

  async open(payload: Uint8Array): ReturnType<Opener['open']> {
    if (this.#opening >= this.#concurrency) await new Promise<void>((r) => this.#queue.push(r))
    this.#opening++
    try {
      // synchronous with a cached sender key: the gate then only ever holds messages waiting for a lookup
      const opener = this.#opener
      return await (opener.openNow === undefined ? opener.open(payload) : opener.openNow(payload))
    } finally {
      this.#opening--
      this.#queue.shift()?.()
    }
  }
}
