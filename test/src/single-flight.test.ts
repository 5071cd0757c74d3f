/** SingleFlight: concurrent runs for one key share one promise; the key is forgotten once it settles, failures included. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SingleFlight } from '../../src/single-flight.js'

/** A run that resolves or rejects when the test says so, counting how often it was started. */
function gate<V>() {
  let settle: { resolve: (v: V) => void; reject: (e: Error) => void } | undefined
  const g = {
    starts: 0,
    start: (): Promise<V> => {
      g.starts++
      return new Promise<V>((resolve, reject) => {
        settle = { resolve, reject }
      })
    },
    resolve: (v: V): void => settle?.resolve(v),
    reject: (e: Error): void => settle?.reject(e),
  }
  return g
}

test('concurrent runs for one key start once and share the promise; other keys run on their own', async () => {
  const flight = new SingleFlight<string, number>()
  const a = gate<number>()
  const b = gate<number>()
  const p1 = flight.run('a', a.start)
  const p2 = flight.run('a', a.start)
  const p3 = flight.run('b', b.start)
  assert.equal(p1, p2)
  assert.equal(a.starts, 1)
  assert.equal(b.starts, 1)
  assert.equal(flight.size, 2)
  a.resolve(7)
  b.resolve(8)
  assert.deepEqual(await Promise.all([p1, p2, p3]), [7, 7, 8])
})

test('a settled key is forgotten: the next run starts anew, after a failure too', async () => {
  const flight = new SingleFlight<string, number>()
  const g = gate<number>()
  const failed = flight.run('k', g.start)
  g.reject(new Error('down'))
  await assert.rejects(failed, /down/)
  await Promise.resolve()
  assert.equal(flight.size, 0)
  const again = flight.run('k', g.start)
  assert.equal(g.starts, 2)
  g.resolve(1)
  assert.equal(await again, 1)
  await Promise.resolve()
  assert.equal(flight.size, 0)
})
