/** The contract every outbox implementation must pass (in the spirit of MQTT.js's abstract store test). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Outbox } from '../../messaging/outbox.js'

export interface OutboxFactory {
  name: string
  /** A fresh, empty outbox. */
  create(): Promise<Outbox>
  /** Closes `box` and opens the same store again; undefined for stores that do not persist. */
  reopen?: (box: Outbox) => Promise<Outbox>
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

export function outboxSuite(f: OutboxFactory): void {
  describe(`outbox contract: ${f.name}`, () => {
    it('gives increasing ids and hands entries out oldest first, each once until rewind', async () => {
      const box = await f.create()
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => box.append(`t/${n}`, bytes(`m${n}`))))
      for (let i = 1; i < ids.length; i++) assert.ok((ids[i] as number) > (ids[i - 1] as number))
      const a = await box.take(2)
      assert.deepEqual(
        a.map((e) => [e.topic, Buffer.from(e.payload).toString()]),
        [
          ['t/1', 'm1'],
          ['t/2', 'm2'],
        ],
      )
      const b = await box.take(10)
      assert.deepEqual(
        b.map((e) => e.id),
        ids.slice(2),
      )
      assert.deepEqual(await box.take(10), [])
      assert.equal(box.pending, 5)
      await box.close()
    })

    it('removes acknowledged entries; rewind offers the unacknowledged ones again, in order', async () => {
      const box = await f.create()
      const ids: number[] = []
      for (let n = 0; n < 6; n++) ids.push(await box.append('t', bytes(String(n))))
      const taken = await box.take(6)
      box.ack(taken[1]!.id)
      box.ack(taken[3]!.id)
      box.ack(taken[3]!.id) // a duplicate PUBACK is harmless
      box.ack(999_999) // an unknown id too
      assert.equal(box.pending, 4)
      box.rewind()
      const again = await box.take(10)
      assert.deepEqual(
        again.map((e) => e.id),
        [ids[0], ids[2], ids[4], ids[5]],
      )
      assert.equal(box.stats().acked, 2)
      await box.close()
    })

    it('signals when entries become available', async () => {
      const box = await f.create()
      let calls = 0
      box.onAvailable(() => calls++)
      await box.append('t', bytes('x'))
      assert.ok(calls >= 1)
      await box.close()
    })

    it('keeps payload bytes exactly (binary, empty, multi-byte topic)', async () => {
      const box = await f.create()
      const bin = new Uint8Array(256).map((_, i) => i)
      await box.append('ü/é', bin)
      await box.append('t', new Uint8Array(0))
      const got = await box.take(2)
      assert.equal(got[0]!.topic, 'ü/é')
      assert.deepEqual(new Uint8Array(got[0]!.payload), bin)
      assert.equal(got[1]!.payload.length, 0)
      await box.close()
    })

    if (f.reopen !== undefined) {
      const reopen = f.reopen
      it('persists unacknowledged entries across a reopen and continues the ids', async () => {
        let box = await f.create()
        const ids: number[] = []
        for (let n = 0; n < 10; n++) ids.push(await box.append('t', bytes(`r${n}`)))
        for (const e of await box.take(4)) box.ack(e.id)
        box = await reopen(box)
        assert.equal(box.pending, 6)
        const rest = await box.take(100)
        assert.deepEqual(
          rest.map((e) => e.id),
          ids.slice(4),
        )
        assert.deepEqual(
          rest.map((e) => Buffer.from(e.payload).toString()),
          ['r4', 'r5', 'r6', 'r7', 'r8', 'r9'],
        )
        const next = await box.append('t', bytes('new'))
        assert.ok(next > (ids.at(-1) as number))
        await box.close()
      })

      it('an emptied store keeps counting ids after a reopen', async () => {
        let box = await f.create()
        for (let n = 0; n < 3; n++) await box.append('t', bytes('x'))
        for (const e of await box.take(3)) box.ack(e.id)
        const last = box.nextId
        box = await reopen(box)
        assert.equal(box.pending, 0)
        assert.ok(box.nextId >= last)
        await box.close()
      })
    }
  })
}
