/** The disk outbox publishes from memory: entries takeable before their write, never read back while held, not written once acknowledged. */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openOutbox } from '../../messaging/outbox.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-outbox-mem-')
after(() => tmp.cleanup())
let n = 0
const freshDir = (): string => join(tmp.dir, `box${n++}`)
const segmentPaths = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort()
    .map((f) => join(dir, f))
const text = (b: Uint8Array): string => Buffer.from(b).toString()

/** Overwrites every segment with zeros (same size): a read-back would find only corruption. */
function wipeSegments(dir: string): number {
  let bytes = 0
  for (const p of segmentPaths(dir)) {
    const size = statSync(p).size
    writeFileSync(p, Buffer.alloc(size))
    bytes += size
  }
  return bytes
}

describe('disk outbox publishes from memory', () => {
  it('an entry is takeable before its append resolved (before the group commit)', async () => {
    const box = await openOutbox(freshDir())
    let stored = false
    const p = box.append('t', Buffer.from('early')).then((id) => {
      stored = true
      return id
    })
    const got = await box.take(10)
    assert.equal(stored, false, 'taken before the write and fdatasync finished')
    assert.deepEqual(
      got.map((e) => text(e.payload)),
      ['early'],
    )
    assert.equal(await p, got[0]?.id)
    await box.close()
  })

  it('pending entries are never read back from disk while held in memory', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    for (let i = 0; i < 20; i++) await box.append('t', Buffer.from(`m${i}`))
    assert.ok(wipeSegments(dir) > 0)
    const got = await box.take(100)
    assert.deepEqual(
      got.map((e) => text(e.payload)),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    )
    await box.close()
  })

  it('past the cache bound, entries are read back from disk (the bound holds)', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir, { cacheMaxBytes: 0 })
    for (let i = 0; i < 5; i++) await box.append('t', Buffer.from(`m${i}`))
    wipeSegments(dir)
    assert.deepEqual(await box.take(100), [], 'read back from the wiped file: nothing valid there')
    await box.close()
  })

  it('an entry acknowledged before its write is not written, and its append resolves', async () => {
    // 'a' starts a group commit at once; 'b' waits behind it and is acknowledged before its turn
    const dir = freshDir()
    const box = await openOutbox(dir)
    await box.append('t', Buffer.from('first')) // the segment exists and holds one record
    const first = await box.take(1)
    box.ack(first[0]?.id as number)
    const before = segmentPaths(dir).reduce((a, p) => a + statSync(p).size, 0)
    const ps = [box.append('t', Buffer.from('a')), box.append('t', Buffer.from('b'))]
    for (const e of await box.take(10)) box.ack(e.id)
    const ids = await Promise.all(ps)
    assert.equal(ids.length, 2)
    assert.equal(box.pending, 0)
    const after = segmentPaths(dir).reduce((a, p) => a + statSync(p).size, 0)
    const oneRecord = 10 + 9 + 2 + 1 + 1 // frame header, id, topic length, topic 't', payload
    assert.equal(after - before, oneRecord, "only 'a' was written")
    await box.close()
    const again = await openOutbox(dir)
    assert.equal(again.pending, 0)
    await again.close()
  })

  it('an entry acknowledged during its write is done after a reopen', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    const p = box.append('t', Buffer.from('x'))
    const [e] = await box.take(1)
    box.ack(e?.id as number) // its write is under way
    await p
    await box.close()
    const again = await openOutbox(dir)
    assert.equal(again.pending, 0)
    assert.ok(readFileSync(join(dir, 'acks.log')).length > 0)
    await again.close()
  })
})
