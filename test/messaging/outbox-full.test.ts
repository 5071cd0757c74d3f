/** The sender's write paths on a really full filesystem (a 256 KiB tmpfs): nothing acknowledged lost, no throw, one log line per streak. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openOutbox } from '../../messaging/outbox.js'
import { openSequence } from '../../messaging/sequence.js'
import type { Logger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = []
  const rec = (level: string) => (msg: string) => lines.push(`${level} ${msg}`)
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') } as unknown as Logger & {
    lines: string[]
  }
}

/** Writes a file until the filesystem says ENOSPC; returns its path (delete it to make room again). */
function fill(dir: string, leave = 0): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(1024, 0x55)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    closeSync(fd)
  }
  if (leave > 0) execFileSync('truncate', ['-s', String(Math.max(0, statSync(path).size - leave)), path])
  return path
}

const until = async (ok: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(ok(), what)
}

describe('full disk (tmpfs, size=256k)', () => {
  let mnt = ''
  let cleanup = (): void => {}
  before(() => {
    const t = makeTempDir('daneel-full-')
    mnt = join(t.dir, 'mnt')
    mkdirSync(mnt)
    // Needs root (CAP_SYS_ADMIN) as the test machine has; a clear failure otherwise, never a skip.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt])
    cleanup = () => {
      execFileSync('umount', [mnt])
      t.cleanup()
    }
  })
  after(() => cleanup())

  it('the outbox holds entries in memory while full, sends them from there, writes the rest once there is room', async () => {
    const dir = join(mnt, 'a')
    const log = recordingLog()
    const box = await openOutbox(dir, { retryMs: 20, logger: log })
    const filler = fill(mnt)
    const settled: (number | Error)[] = []
    const ids: number[] = []
    for (let i = 0; i < 40; i++) {
      box.append('t', Buffer.alloc(900, i)).then(
        (id) => settled.push(id),
        (e: Error) => settled.push(e),
      )
    }
    await until(() => box.stats().held === 40, `held ${box.stats().held}`)
    assert.equal(box.stats().diskFull, true)
    assert.equal(settled.length, 0, 'nothing is acknowledged while it is only in memory')
    // The broker acknowledges the first 25 (sent from memory).
    for (const e of await box.take(25)) {
      ids.push(e.id)
      box.ack(e.id)
    }
    await until(() => settled.length === 25, `25 delivered from memory (${settled.length})`)
    rmSync(filler)
    await until(() => settled.length === 40, `the other 15 written (${settled.length})`)
    assert.ok(settled.every((s) => typeof s === 'number'))
    assert.equal(box.stats().diskFull, false)
    await box.close()
    assert.equal(log.lines.filter((l) => l.startsWith('error disk full: cannot write the outbox')).length, 1, log.lines.join('\n'))
    assert.equal(log.lines.filter((l) => /the outbox is written again/.test(l)).length, 1)
    const again = await openOutbox(dir)
    const left = await again.take(100)
    assert.equal(left.length, 15, 'the 15 not acknowledged are on disk')
    assert.ok(left.every((e) => !ids.includes(e.id) && e.payload.length === 900))
    await again.close()
    rmSync(dir, { recursive: true })
  })

  it('acknowledged records are reclaimed before the segment would fill the disk (104 KiB free, 557 readings)', async () => {
    const dir = join(mnt, 'b')
    const log = recordingLog()
    const box = await openOutbox(dir, { logger: log }) // 16 MiB bound: 2 MiB segments, far above the free space
    const filler = fill(mnt, 104 * 1024)
    let stored = 0
    for (let i = 0; i < 557; i++) {
      await box.append('t', Buffer.alloc(700, i))
      stored++
      for (const e of await box.take(10)) box.ack(e.id)
    }
    assert.equal(stored, 557)
    const st = box.stats()
    assert.equal(st.held, 0, 'never held in memory: there was always room')
    assert.equal(st.refused, 0)
    assert.ok(st.diskBytes < 100 * 1024, `${st.diskBytes} bytes on disk`)
    await box.close()
    assert.deepEqual(
      log.lines.filter((l) => l.startsWith('error')),
      [],
    )
    rmSync(filler)
    rmSync(dir, { recursive: true })
  })

  it('acks.log is created 0600', async () => {
    const dir = join(mnt, 'c')
    const box = await openOutbox(dir, { ackFlushMs: 5 })
    box.ack(await box.append('t', Buffer.from('x')))
    await until(() => {
      try {
        return statSync(join(dir, 'acks.log')).size > 0
      } catch {
        return false
      }
    }, 'acks.log written')
    assert.equal(statSync(join(dir, 'acks.log')).mode & 0o777, 0o600)
    await box.close()
    rmSync(dir, { recursive: true })
  })

  it('the sequence store on a full disk: no throw, numbers from memory, persisted again once there is room', () => {
    const path = join(mnt, 'seq.node.json')
    const log = recordingLog()
    const filler = fill(mnt)
    const s = openSequence(path, 10, { logger: log })
    const got = Array.from({ length: 25 }, () => s.next())
    assert.equal(new Set(got).size, 25)
    assert.equal(s.status, 'memory')
    rmSync(filler)
    for (let i = 0; i < 10; i++) got.push(s.next())
    assert.equal(s.status, 'ok')
    assert.ok(JSON.parse(readFileSync(path, 'utf8')).reserved > Math.max(...got))
    assert.equal(log.lines.filter((l) => l.startsWith('error disk full')).length, 1, log.lines.join('\n'))
    assert.equal(log.lines.filter((l) => /written again/.test(l)).length, 1)
    s.close()
  })
})
