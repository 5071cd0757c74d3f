/** The disk outbox: the store contract, torn and corrupt records, the byte bound, kill -9, segment and ack-log cleanup. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { MemoryOutbox } from '../../messaging/outbox/memory.js'
import { type Outbox, openOutbox } from '../../messaging/outbox.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'
import { outboxSuite } from './outbox-suite.js'

const tmp = makeTempDir('daneel-outbox-')
after(() => tmp.cleanup())
let n = 0
const freshDir = (): string => join(tmp.dir, `box${n++}`)
const dirOf = new WeakMap<Outbox, string>()

outboxSuite({
  name: 'disk',
  create: async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    dirOf.set(box, dir)
    return box
  },
  reopen: async (box) => {
    const dir = dirOf.get(box) as string
    await box.close()
    const again = await openOutbox(dir)
    dirOf.set(again, dir)
    return again
  },
})
outboxSuite({ name: 'memory', create: async () => new MemoryOutbox() })

const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort()
const text = (b: Uint8Array): string => Buffer.from(b).toString()

describe('disk outbox recovery', () => {
  it('detects a torn tail by its CRC, skips and counts it, and appends cleanly after it', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    for (let i = 0; i < 5; i++) await box.append('t', Buffer.from(`reading-${i}`))
    await box.close()
    const seg = join(dir, segments(dir).at(-1) as string)
    truncateSync(seg, statSync(seg).size - 3) // a write cut short by a power cut
    const again = await openOutbox(dir)
    assert.equal(again.stats().corrupt, 1)
    assert.equal(again.pending, 4)
    await again.append('t', Buffer.from('after'))
    await again.close()
    const third = await openOutbox(dir)
    assert.equal(third.stats().corrupt, 0, 'the torn tail was cut off, not left in front of new records')
    assert.deepEqual(
      (await third.take(10)).map((e) => text(e.payload)),
      ['reading-0', 'reading-1', 'reading-2', 'reading-3', 'after'],
    )
    await third.close()
  })

  it('skips a record corrupted in the middle of a segment and keeps those after it', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    for (let i = 0; i < 5; i++) await box.append('t', Buffer.from(`reading-${i}`))
    await box.close()
    const seg = join(dir, segments(dir).at(-1) as string)
    const buf = readFileSync(seg)
    const at = buf.indexOf('reading-2')
    buf[at] = buf[at]! ^ 0xff // a flipped byte
    writeFileSync(seg, buf)
    const again = await openOutbox(dir)
    assert.equal(again.stats().corrupt, 1)
    assert.deepEqual(
      (await again.take(10)).map((e) => text(e.payload)),
      ['reading-0', 'reading-1', 'reading-3', 'reading-4'],
    )
    await again.close()
  })

  it('ignores garbage appended after the last record', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir)
    await box.append('t', Buffer.from('ok'))
    await box.close()
    appendFileSync(join(dir, segments(dir).at(-1) as string), Buffer.from([0xda, 0xe1, 0, 0, 0, 9, 1, 2, 3, 4, 5]))
    const again = await openOutbox(dir)
    assert.equal(again.pending, 1)
    assert.equal(again.stats().corrupt, 1)
    await again.close()
  })
})

describe('disk outbox sync=interval', () => {
  it('resolves appends before fdatasync, syncs on its interval, and keeps entries across a reopen', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir, { sync: 'interval', syncIntervalMs: 20 })
    await Promise.all(Array.from({ length: 100 }, (_, i) => box.append('t', Buffer.from(`i${i}`))))
    assert.equal(box.stats().syncs, 0, 'no fdatasync on the append path')
    await new Promise((r) => setTimeout(r, 60))
    assert.ok(box.stats().syncs >= 1, 'the interval synced')
    await box.close()
    const again = await openOutbox(dir)
    assert.equal(again.pending, 100)
    await again.close()
  })
})

describe('disk outbox bound', () => {
  it('stays within maxBytes when full by dropping the oldest entries, counted', async () => {
    const dir = freshDir()
    const maxBytes = 64 * 1024
    const box = await openOutbox(dir, { maxBytes })
    const payload = Buffer.alloc(500, 0x61)
    const total = 1000 // 500 KB offered to a 64 KiB outbox
    let peak = 0
    for (let i = 0; i < total; i++) {
      await box.append('t', payload)
      peak = Math.max(peak, box.stats().diskBytes)
    }
    const s = box.stats()
    assert.ok(peak <= maxBytes, `disk bytes ${peak} exceed ${maxBytes}`)
    assert.ok(s.dropped > 0)
    assert.equal(s.dropped + s.pending, total)
    const ids = (await box.take(total)).map((e) => e.id)
    assert.equal(ids.at(-1), box.nextId - 1, 'the newest entry is kept')
    assert.ok((ids[0] as number) > 1, 'the oldest entries went')
    await box.close()
    const again = await openOutbox(dir, { maxBytes })
    assert.equal(again.pending, s.pending, 'dropped entries stay dropped after a restart')
    await again.close()
  })

  it('deletes segments once every entry in them is acknowledged, and keeps the ack log small', async () => {
    const dir = freshDir()
    const box = await openOutbox(dir, { maxBytes: 64 * 1024, ackFlushMs: 5 })
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 200 }, () => box.append('t', Buffer.alloc(100))))
      for (const e of await box.take(200)) box.ack(e.id)
      await new Promise((r) => setTimeout(r, 10))
    }
    assert.equal(box.pending, 0)
    assert.ok(segments(dir).length <= 2, `segments left: ${segments(dir).length}`)
    await box.close()
    assert.ok(statSync(join(dir, 'acks.log')).size < 128 * 1024, 'ack log compacted')
    const again = await openOutbox(dir)
    assert.equal(again.pending, 0)
    assert.equal(again.nextId, 4_001)
    await again.close()
  })

  it('refuses an entry larger than a segment with ERR_OUTBOX_FULL', async () => {
    const box = await openOutbox(freshDir(), { maxBytes: 64 * 1024 })
    await assert.rejects(box.append('t', Buffer.alloc(9000)), { code: 'ERR_OUTBOX_FULL' })
    await box.close()
  })
})

describe('disk outbox under kill -9', () => {
  it('keeps every entry whose append resolved before SIGKILL', async () => {
    const dir = freshDir()
    const script = join(tmp.dir, 'writer.mjs')
    writeFileSync(
      script,
      `import { openOutbox } from ${JSON.stringify(repoPath('build/messaging/outbox.js'))}
const box = await openOutbox(process.argv[2])
for (let i = 0; ; i++) {
  const batch = []
  for (let j = 0; j < 16; j++) batch.push(box.append('t', Buffer.from('reading ' + (i * 16 + j))).then((id) => process.stdout.write(id + '\\n')))
  await Promise.all(batch)
}
`,
    )
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (out.split('\n').length > 3000) {
          clearInterval(t)
          resolve()
        }
      }, 5)
    })
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    const accepted = out
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number)
    const box = await openOutbox(dir)
    const have = new Set((await box.take(1_000_000)).map((e) => e.id))
    for (const id of accepted) assert.ok(have.has(id), `accepted entry ${id} lost`)
    assert.ok(box.nextId > Math.max(...accepted))
    await box.close()
  })
})
