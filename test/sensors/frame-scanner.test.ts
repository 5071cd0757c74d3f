/** FrameScanner: byte-by-byte resync, the PMS5003 0x42-before-0x42 0x4D trap, and fuzzed streams (fast-check). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import fc from 'fast-check'
import type { SensorFault } from '../../sensors/driver.js'
import { type FrameFormat, FrameScanner, type FrameSink } from '../../sensors/frame-scanner.js'
import { decodeMhz19, mhz19FrameFormat } from '../../sensors/mhz19/decode.js'
import { decodePms5003, pmsFrameFormat } from '../../sensors/pms5003/decode.js'
import { decodeSds011, sds011FrameFormat } from '../../sensors/sds011/decode.js'
import { fixturePath } from '../../testkit/paths.js'

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const load = (name: string): Uint8Array[] => JSON.parse(readFileSync(fixturePath(`sensors/${name}.json`), 'utf8')).frames.map(hex)

class Collect implements FrameSink {
  frames: string[] = []
  faults: SensorFault[] = []
  onFrame(buf: Uint8Array, len: number): void {
    this.frames.push(Buffer.from(buf.subarray(0, len)).toString('hex'))
  }
  onFrameFault(code: SensorFault): void {
    this.faults.push(code)
  }
}

function run(format: FrameFormat, chunks: Uint8Array[]): Collect {
  const sink = new Collect()
  const s = new FrameScanner(format, sink)
  for (const c of chunks) s.push(c)
  return sink
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))

const PROTOCOLS: Array<{ name: string; format: FrameFormat; frames: Uint8Array[] }> = [
  { name: 'pms5003', format: pmsFrameFormat, frames: load('pms5003') },
  { name: 'sds011', format: sds011FrameFormat, frames: load('sds011') },
  { name: 'mhz19b', format: mhz19FrameFormat, frames: load('mhz19b') },
]

test('the 0x42-before-0x42 0x4D trap: a frame whose checksum ends in 0x42, then the next frame', () => {
  // A real-shaped frame whose checksum is 0x0142 (idle counts, adafruit/Adafruit_PM25AQI#22): its last byte 0x42
  // directly precedes the next frame's 0x42 0x4D. Lose the first frame's head so the scanner meets the trap cold.
  const trap = hex(`424d001c${'0000'.repeat(12)}97000000`)
  let sum = 0
  for (let i = 0; i < 30; i++) sum += trap[i] as number
  // Fill payload so the checksum is exactly 0x0142.
  trap[27] = 0x0142 - sum
  trap[30] = 0x01
  trap[31] = 0x42
  const next = load('pms5003')[0] as Uint8Array
  const out = run(pmsFrameFormat, [trap.subarray(5), next, next])
  assert.deepEqual(out.frames, [Buffer.from(next).toString('hex'), Buffer.from(next).toString('hex')])
  // And whole: both frames decode.
  const whole = run(pmsFrameFormat, [trap, next])
  assert.equal(whole.frames.length, 2)
  assert.equal(whole.faults.length, 0)
})

test('a false header inside noise does not swallow the real frame behind it', () => {
  const next = load('pms5003')[0] as Uint8Array
  // 0x42 0x4D 0x00 0x1C (a plausible header) 10 bytes before a real frame: the false candidate spans the real
  // frame's start, fails its checksum, and the scanner backs up one byte and finds the real frame.
  const out = run(pmsFrameFormat, [hex('00424d001c00000000000000'), next])
  assert.equal(out.frames.length, 1)
  assert.deepEqual(out.faults, ['E_CHECKSUM'])
})

for (const { name, format, frames } of PROTOCOLS) {
  test(`${name}: a captured stream split at every possible point decodes every frame`, () => {
    const stream = concat(frames)
    for (let cut = 0; cut <= stream.length; cut++) {
      const out = run(format, [stream.subarray(0, cut), stream.subarray(cut)])
      assert.equal(out.frames.length, frames.length, `cut at ${cut}`)
    }
    const byteByByte = run(
      format,
      Array.from(stream, (b) => Uint8Array.of(b)),
    )
    assert.equal(byteByByte.frames.length, frames.length)
  })

  test(`${name}: fuzzed noise, split chunks and dropped bytes never crash and resync within one frame`, () => {
    const segment = fc.oneof(
      fc.record({ kind: fc.constant('frame' as const), i: fc.nat(frames.length - 1) }),
      fc.record({ kind: fc.constant('noise' as const), bytes: fc.uint8Array({ maxLength: 80 }) }),
      fc.record({ kind: fc.constant('dropped' as const), i: fc.nat(frames.length - 1), at: fc.nat(64), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('truncated' as const), i: fc.nat(frames.length - 1), keep: fc.nat(64) }),
    )
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        (segs, cuts) => {
          const parts: Uint8Array[] = []
          // Which intact frames must come out: every one not directly preceded by damage ("within one frame").
          const required: Array<{ hex: string; mustSee: boolean }> = []
          let damaged = false
          for (const s of segs) {
            if (s.kind === 'frame') {
              const f = frames[s.i] as Uint8Array
              parts.push(f)
              required.push({ hex: Buffer.from(f).toString('hex'), mustSee: !damaged })
              damaged = false
            } else if (s.kind === 'noise') {
              parts.push(s.bytes)
              if (s.bytes.length > 0) damaged = true
            } else if (s.kind === 'dropped') {
              const f = frames[s.i] as Uint8Array
              const at = s.at % f.length
              parts.push(concat([f.subarray(0, at), f.subarray(Math.min(f.length, at + s.n))]))
              damaged = true
            } else {
              const f = frames[s.i] as Uint8Array
              parts.push(f.subarray(0, s.keep % f.length))
              damaged = true
            }
          }
          const stream = concat(parts)
          const chunks: Uint8Array[] = []
          let off = 0
          for (let k = 0; off < stream.length; k++) {
            const n = cuts[k % cuts.length] as number
            chunks.push(stream.subarray(off, off + n))
            off += n
          }
          const out = run(format, chunks)
          // Every emitted frame is a valid frame of this protocol; every required intact frame came out, in order.
          let j = 0
          for (const r of required) {
            if (!r.mustSee) continue
            const found = out.frames.indexOf(r.hex, j)
            assert.ok(found >= 0, `missed an intact frame ${r.hex}`)
            j = found + 1
          }
          for (const f of out.frames) assert.equal(format.verify(hex(f), f.length / 2), null)
        },
      ),
      { numRuns: 400 },
    )
  })
}

test('decoders: any bytes give a value (ok or a fault code), never an exception', () => {
  const codes = new Set(['E_CHECKSUM', 'E_LENGTH', 'E_HEADER', 'E_TAIL'])
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (b) => {
      for (const d of [decodePms5003(b), decodeSds011(b), decodeMhz19(b)]) {
        if (!d.ok) assert.ok(codes.has(d.code), d.code)
      }
    }),
    { numRuns: 2000 },
  )
})
