/** src/lru.ts: the bounded LRU every cache of the tree uses. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Lru } from '../../src/lru.js'

test('holds at most max entries and evicts the least recently used first', () => {
  const lru = new Lru<string, number>(3)
  lru.set('a', 1).set('b', 2).set('c', 3)
  assert.equal(lru.get('a'), 1) // a is now the most recent: b is the oldest
  lru.set('d', 4)
  assert.equal(lru.size, 3)
  assert.equal(lru.has('b'), false)
  assert.deepEqual([...lru.keys()], ['c', 'a', 'd'])
})

test('peek reads without changing the order; has does not either', () => {
  const lru = new Lru<string, number>(2)
  lru.set('a', 1).set('b', 2)
  assert.equal(lru.peek('a'), 1)
  assert.equal(lru.has('a'), true)
  lru.set('c', 3)
  assert.deepEqual(
    [...lru],
    [
      ['b', 2],
      ['c', 3],
    ],
  )
})

test('setting an existing key replaces it, moves it to the young end and evicts nothing', () => {
  const lru = new Lru<string, number>(2)
  lru.set('a', 1).set('b', 2).set('a', 10)
  assert.equal(lru.size, 2)
  assert.deepEqual(
    [...lru.entries()],
    [
      ['b', 2],
      ['a', 10],
    ],
  )
  lru.set('c', 3)
  assert.deepEqual([...lru.keys()], ['a', 'c'])
})

test('falsy values are entries like any other (a miss is only undefined)', () => {
  const lru = new Lru<string, number | null>(2)
  lru.set('zero', 0).set('null', null)
  assert.equal(lru.get('zero'), 0)
  assert.equal(lru.get('null'), null)
  assert.deepEqual([...lru.keys()], ['zero', 'null'])
  assert.equal(lru.get('absent'), undefined)
})

test('delete and clear', () => {
  const lru = new Lru<number, string>(4)
  lru.set(1, 'x').set(2, 'y')
  assert.equal(lru.delete(1), true)
  assert.equal(lru.delete(1), false)
  assert.equal(lru.size, 1)
  lru.clear()
  assert.equal(lru.size, 0)
})

test('a size below one, or not a whole number, is a RangeError', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new Lru(bad), RangeError)
  assert.equal(new Lru(1).max, 1)
})
