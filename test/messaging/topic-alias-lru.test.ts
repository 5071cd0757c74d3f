/** The device bundle's stand-in for lru-cache against lru-cache itself (the copy MQTT.js resolves), on the calls MQTT.js's topic-alias-send makes. */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import fc from 'fast-check'
import { LRUCache } from '../../messaging/topic-alias-lru.js'

// lru-cache as MQTT.js's own require() finds it: the oracle is the library the stand-in replaces.
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt/package.json'))
const Real = (fromMqtt('lru-cache') as { LRUCache: new (o: { max: number }) => Lru }).LRUCache
interface Lru {
  readonly size: number
  get(k: number): string | undefined
  set(k: number, v: string): unknown
  clear(): void
  keys(): Iterable<number>
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), k: fc.integer({ min: 1, max: 12 }), v: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('get' as const), k: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('clear' as const) }),
)

test('get, set, clear, size and keys() (most recent first) as lru-cache answers them, evictions included', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 }), fc.array(op, { maxLength: 80 }), (max, ops) => {
      const real = new Real({ max })
      const ours = new LRUCache<number, string>({ max })
      for (const o of ops) {
        if (o.kind === 'set') {
          real.set(o.k, o.v)
          ours.set(o.k, o.v)
        } else if (o.kind === 'get') assert.equal(ours.get(o.k), real.get(o.k))
        else {
          real.clear()
          ours.clear()
        }
        assert.equal(ours.size, real.size)
        assert.deepEqual([...ours.keys()], [...real.keys()])
      }
    }),
    { numRuns: 500, seed: 7 },
  )
})

test('the least recently used alias is the last key, as MQTT.js reads it', () => {
  const lru = new LRUCache<number, string>({ max: 3 })
  lru.set(1, 'a').set(2, 'b').set(3, 'c')
  lru.get(1)
  assert.equal([...lru.keys()].at(-1), 2)
  lru.set(4, 'd') // evicts 2
  assert.equal(lru.get(2), undefined)
  assert.deepEqual([...lru.keys()], [4, 1, 3])
  assert.throws(() => new LRUCache({ max: 0 }), TypeError)
})
