/** The persisted sequence number: survives restarts, one write per block, never reused (crash, lost file, other processes, full disk). */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openSequence, sequencePath, timeSeed } from '../../messaging/sequence.js'
import type { Logger } from '../../src/log.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const T0 = Date.UTC(2026, 11, 2)

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = []
  const rec = (level: string) => (msg: string) => lines.push(`${level} ${msg}`)
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') } as unknown as Logger & {
    lines: string[]
  }
}

test('a clean close resumes exactly; writes happen once per block', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = sequencePath(join(dir, 'state'), 'node1.airquality._device.example.com')
  let writes = 0
  const counting = (p: string, d: string) => {
    writes++
    writeFileSync(p, d)
  }
  const s = openSequence(path, 100, { write: counting, now: () => T0 })
  const base = timeSeed(T0)
  const got = Array.from({ length: 250 }, () => s.next())
  assert.deepEqual(
    got,
    Array.from({ length: 250 }, (_, i) => base + i),
  )
  assert.equal(writes, 3, 'reserved 100, 200, 300')
  s.close()
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).reserved, base + 250)
  const again = openSequence(path, 100)
  assert.equal(again.next(), base + 250)
  again.close()
})

test('after a crash (no close) numbers skip at most one block and are never reused', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  writeFileSync(path, '{"reserved":0}')
  const a = openSequence(path, 10)
  for (let i = 0; i < 15; i++) a.next() // used 0..14, reserved up to 20; then "kill -9"
  const b = openSequence(path, 10)
  const first = b.next()
  assert.ok(first >= 15 && first <= 20, `resumed at ${first}`)
  b.close()
})

test('two stores on one file (a send during run) never hand out the same number; close gives back only its own rest', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  writeFileSync(path, '{"reserved":1000}')
  const run = openSequence(path, 100)
  const seen = new Set<number>()
  for (let i = 0; i < 30; i++) seen.add(run.next())
  const send = openSequence(path, 1)
  const s = send.next()
  send.close()
  assert.equal(s, 1100, 'the send takes the number after the run block')
  assert.ok(!seen.has(s))
  for (let i = 0; i < 200; i++) seen.add(run.next())
  assert.equal(seen.size, 230)
  assert.ok(!seen.has(s), 'the run skipped the number the send took')
  run.close()
  const after = openSequence(path, 1).next()
  assert.ok(after > Math.max(...seen) && after !== s)
})

test('a lost or corrupt file restarts from the time seed, above any earlier number, logged once', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  const log = recordingLog()
  const a = openSequence(path, 10, { now: () => T0, logger: log })
  for (let i = 0; i < 25; i++) a.next()
  const high = a.next()
  rmSync(path)
  const b = openSequence(path, 10, { now: () => T0 + 1000, logger: log })
  const restarted = b.next()
  assert.ok(restarted > high, `${restarted} > ${high}`)
  for (let i = 0; i < 30; i++) b.next()
  assert.equal(log.lines.filter((l) => /time seed/.test(l)).length, 2, 'one line per store that found the file missing')
  writeFileSync(path, 'garbage')
  const c = openSequence(path, 10, { now: () => T0 + 2000, logger: log })
  assert.ok(c.next() >= timeSeed(T0 + 2000))
  assert.match(log.lines.at(-1) as string, /corrupt \(not JSON\)/)
})

test('a full disk never throws from next(): in-place rewrite, then memory; one error line per streak', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  writeFileSync(path, '{"reserved":0}')
  const log = recordingLog()
  let full = true
  const enospc = (p: string, d: string) => {
    if (full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
    writeFileSync(p, d)
  }
  const s = openSequence(path, 5, { write: enospc, logger: log })
  const got = Array.from({ length: 12 }, () => s.next())
  assert.deepEqual(
    got,
    Array.from({ length: 12 }, (_, i) => i),
  )
  assert.equal(s.status, 'ok', 'the fixed-width file was rewritten in place')
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).reserved, 15)
  // No in-place fallback either (no file to rewrite, and none can be created): numbers continue from memory.
  const m = openSequence(join(dir, 'other.json'), 5, { write: enospc, logger: log, now: () => T0 })
  const mem = Array.from({ length: 12 }, () => m.next())
  assert.equal(new Set(mem).size, 12)
  assert.equal(m.status, 'memory')
  assert.equal(log.lines.filter((l) => /^error disk full/.test(l)).length, 1, log.lines.join('\n'))
  full = false
})

test('a lock left by a killed process is broken; a live holder is waited for', async (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  writeFileSync(path, '{"reserved":7}')
  writeFileSync(`${path}.lock`, '999999999\n') // no such PID
  assert.equal(openSequence(path, 1).next(), 7)
  writeFileSync(`${path}.lock`, `${process.pid}\n`) // alive (us) and fresh: times out
  assert.throws(() => openSequence(path, 1, { lockTimeoutMs: 50 }).next(), /held by another process/)
  rmSync(`${path}.lock`)
  // 20 processes x 10 numbers, block 1 (a lock per number): all distinct.
  const script = `import { openSequence } from ${JSON.stringify(repoPath('build/messaging/sequence.js'))}
const s = openSequence(process.argv[1], 1); const out = []; for (let i = 0; i < 10; i++) out.push(s.next()); s.close(); console.log(JSON.stringify(out))`
  const runs = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<number[]>((resolve, reject) => {
          const p = spawn(process.execPath, ['--input-type=module', '-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] })
          let out = ''
          p.stdout.on('data', (d: Buffer) => (out += d.toString()))
          p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`exit ${code}`))))
        }),
    ),
  )
  const all = runs.flat()
  assert.equal(all.length, 200)
  assert.equal(new Set(all).size, 200, 'no number handed out twice')
})

test('sequence files are per sender and safe as file names', () => {
  assert.notEqual(sequencePath('/s', 'a.example'), sequencePath('/s', 'b.example'))
  assert.equal(sequencePath('/s', 'x/../y'), '/s/seq.x_.._y.json')
})
