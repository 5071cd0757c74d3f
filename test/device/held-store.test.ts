/** The held readings' file: appended per reading, read back after a restart of the same boot, dropped after a reboot, torn lines skipped, bounded, mode 0600. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, test } from 'node:test'
import { type BootClock, compactSlack, HeldStore, systemBootClock } from '../../device/held-store.js'
import { createLogger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-held-')
after(() => tmp.cleanup())

/** A boot clock the test moves: `t` is CLOCK_MONOTONIC in ms. */
function fakeBoot(id: string, t = 0): BootClock & { t: number } {
  return {
    t,
    bootId() {
      return id
    },
    monoMs() {
      return this.t
    },
  }
}

function open(name: string, boot: BootClock) {
  const logs: string[] = []
  const path = join(tmp.dir, name)
  const store = new HeldStore({ path, boot, log: createLogger({ level: 'debug', write: (l) => logs.push(l) }) })
  return {
    store,
    path,
    logs,
    lines: () =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
  }
}

const reading = (n: number) => ({ sensor: 'pm', model: 'pms5003', values: { pm25: n, pm10: 2 * n } })
const mode = (path: string): number => statSync(path).mode & 0o777

test('appended readings come back after a restart of the same boot, with their age; the file is 0600', () => {
  const boot = fakeBoot('boot-a', 50_000)
  const a = open('a.jsonl', boot)
  assert.equal(a.store.load(100).held.length, 0)
  assert.equal(existsSync(a.path), false, 'nothing held: no file')
  for (let i = 0; i < 5; i++) {
    a.store.append(reading(i))
    boot.t += 10_000
  }
  assert.equal(mode(a.path), 0o600)
  assert.equal(a.lines().length, 5)
  assert.deepEqual(JSON.parse(a.lines()[0] as string), { claims: reading(0), mono: 50_000, boot: 'boot-a' })

  // The process restarts 7 s later (same boot: CLOCK_MONOTONIC went on).
  boot.t += 7_000
  const b = open('a.jsonl', boot)
  const loaded = b.store.load(100)
  assert.deepEqual(
    loaded.held.map((h) => h.claims),
    [0, 1, 2, 3, 4].map(reading),
  )
  assert.deepEqual(
    loaded.held.map((h) => h.ageMs),
    [57_000, 47_000, 37_000, 27_000, 17_000],
  )
  assert.deepEqual([loaded.lostReboot, loaded.unreadable, loaded.dropped], [0, 0, 0])
  assert.equal(b.logs.filter((l) => l.includes('5 held readings recovered')).length, 1)
  assert.equal(b.lines().length, 5, 'kept until released')
})

test('readings from an earlier boot have no recoverable time: dropped, counted, logged once, cut from the file', () => {
  const before = fakeBoot('boot-1', 900_000)
  const a = open('b.jsonl', before)
  a.store.load(100)
  for (let i = 0; i < 4; i++) a.store.append(reading(i))
  // Reboot: a new boot id, CLOCK_MONOTONIC from 0 again. One reading of the new boot is held before a second restart.
  const now = fakeBoot('boot-2', 12_000)
  const b = open('b.jsonl', now)
  const first = b.store.load(100)
  assert.equal(first.held.length, 0)
  assert.equal(first.lostReboot, 4)
  assert.equal(b.logs.filter((l) => l.includes('before the last reboot')).length, 1)
  assert.equal(b.lines().length, 0, 'rewritten without them')
  b.store.append(reading(9))
  now.t = 20_000
  const c = open('b.jsonl', now)
  const second = c.store.load(100)
  assert.equal(second.lostReboot, 0, 'counted once, not at every start')
  assert.deepEqual(
    second.held.map((h) => [h.claims, h.ageMs]),
    [[reading(9), 8_000]],
  )
})

test('a torn last line (crash mid-append) and garbage lines are skipped and counted; the next append is readable', () => {
  const boot = fakeBoot('boot-t', 100_000)
  const a = open('c.jsonl', boot)
  const good = (n: number, mono: number) => JSON.stringify({ claims: reading(n), mono, boot: 'boot-t' })
  writeFileSync(
    a.path,
    [
      good(1, 10_000),
      'not json',
      '[]',
      'null',
      JSON.stringify({ claims: 1, mono: 0, boot: 'boot-t' }),
      JSON.stringify({ claims: reading(7), mono: 200_000, boot: 'boot-t' }), // "after" now: not ours
      good(2, 20_000),
      good(3, 30_000).slice(0, 25), // torn: no end, no newline
    ].join('\n'),
    { mode: 0o600 },
  )
  const loaded = a.store.load(100)
  assert.deepEqual(
    loaded.held.map((h) => h.claims),
    [reading(1), reading(2)],
  )
  assert.equal(loaded.unreadable, 6)
  assert.equal(a.logs.filter((l) => l.includes('not readable')).length, 1)
  // Had the torn tail stayed, this line would have been glued to it and lost.
  a.store.append(reading(4))
  const b = open('c.jsonl', boot).store.load(100)
  assert.equal(b.unreadable, 0)
  assert.deepEqual(
    b.held.map((h) => h.claims),
    [reading(1), reading(2), reading(4)],
  )
})

test('a complete last line whose newline was not written is kept, and the next append starts a line of its own', () => {
  const boot = fakeBoot('boot-n', 100_000)
  const a = open('d.jsonl', boot)
  writeFileSync(a.path, JSON.stringify({ claims: reading(1), mono: 1_000, boot: 'boot-n' }), { mode: 0o600 })
  assert.equal(a.store.load(100).held.length, 1)
  a.store.append(reading(2))
  const b = open('d.jsonl', boot).store.load(100)
  assert.deepEqual([b.held.length, b.unreadable], [2, 0])
})

test('bounded: the file runs at most a quarter past max, is rewritten with the newest max, and reloads the newest max', () => {
  const max = 8
  const boot = fakeBoot('boot-m', 0)
  const a = open('e.jsonl', boot)
  a.store.load(max)
  let most = 0
  for (let i = 0; i < 30; i++) {
    a.store.append(reading(i))
    boot.t += 1_000
    const n = a.lines().length
    assert.equal(n, a.store.size)
    most = Math.max(most, n)
  }
  assert.equal(most, max + compactSlack(max))
  assert.equal(mode(a.path), 0o600, 'mode kept across the atomic rewrite')
  const b = open('e.jsonl', boot).store.load(max)
  assert.deepEqual(
    b.held.map((h) => (h.claims as ReturnType<typeof reading>).values.pm25),
    [22, 23, 24, 25, 26, 27, 28, 29],
  )
  assert.equal(b.dropped, a.store.size - max)
})

test('forget(mark) removes the lines before the mark only; the file is emptied atomically', () => {
  const boot = fakeBoot('boot-f', 5_000)
  const a = open('f.jsonl', boot)
  a.store.load(100)
  for (let i = 0; i < 3; i++) a.store.append(reading(i))
  const mark = a.store.mark()
  a.store.append(reading(3))
  a.store.forget(mark)
  assert.deepEqual(
    a.lines().map((l) => JSON.parse(l).claims),
    [reading(3)],
  )
  a.store.forget(a.store.mark())
  assert.equal(readFileSync(a.path, 'utf8'), '')
  assert.equal(mode(a.path), 0o600)
  a.store.forget(mark) // a mark already forgotten: nothing to do
  assert.equal(readFileSync(a.path, 'utf8'), '')
})

test('a file that cannot be written never throws: logged once, and the next good write replaces the whole file', () => {
  const boot = fakeBoot('boot-w', 5_000)
  const a = open('no-such-dir/g.jsonl', boot)
  a.store.load(100)
  a.store.append(reading(1))
  a.store.append(reading(2))
  assert.equal(a.logs.filter((l) => l.includes('cannot persist a held reading')).length, 1)
  assert.equal(a.logs.filter((l) => l.includes('ENOENT')).length, 1)
  // The directory appears (the state volume mounted late): everything still held is written, not just the new line.
  mkdirSync(dirname(a.path))
  a.store.append(reading(3))
  assert.deepEqual(
    a.lines().map((l) => JSON.parse(l).claims),
    [reading(1), reading(2), reading(3)],
  )
  assert.equal(mode(a.path), 0o600)
})

test('without a boot id nothing is written (no time could be recovered), said once', () => {
  const a = open('h.jsonl', systemBootClock({ path: join(tmp.dir, 'no-boot-id') }))
  a.store.load(100)
  a.store.append(reading(1))
  assert.equal(existsSync(a.path), false)
  assert.equal(a.logs.filter((l) => l.includes('cannot read the boot id')).length, 1)
})

test("the system boot clock: the kernel's boot id, and CLOCK_MONOTONIC shared with another process", () => {
  const clock = systemBootClock()
  const proc = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  assert.match(proc, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  // Stored as systemd's %b writes it (no dashes), so the unit's DANEEL_BOOT_ID names the same boot as /proc.
  assert.equal(clock.bootId(), proc.replaceAll('-', ''))
  const hidden = systemBootClock({ path: join(tmp.dir, 'hidden-by-ProcSubset'), fallback: proc.toUpperCase() })
  assert.equal(hidden.bootId(), clock.bootId())
  // A child process reads the same clock: its reading falls between two of ours (a per-process origin would not).
  const before = clock.monoMs()
  const child =
    Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.hrtime.bigint()))'], { encoding: 'utf8' })) / 1e6
  const afterMs = clock.monoMs()
  assert.ok(before <= child && child <= afterMs, `${before} <= ${child} <= ${afterMs}`)
})
