/** bench:seal — seals/s, opens/s, bytes on the wire and heap allocated per seal: our node and noble providers against a hand-written node:crypto path and jose. */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { loadavg } from 'node:os'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as jose from 'jose'
import { fixedClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { createOpener } from '../src/message/open.js'
import { createReplayWindow } from '../src/message/replay.js'
import { createSealer } from '../src/message/seal.js'

// The 79-byte reading of the issue, and 35-character identity names.
const READING_TEXT = '{"pm25":12.3,"pm10":20.1,"co2":612,"t":21.4,"rh":40.2,"ts":1764100000,"seq":42}'
const READING = JSON.parse(READING_TEXT) as Record<string, number>
const SENDER = 'c90a0d441683.aq._device.example.com'
const RECIPIENT = 'b5e1f0a2c3d4.gw._device.example.com'
const NOW = 1764100000_000
const json = process.argv.includes('--json')
const seconds = Number(process.env.BENCH_SECONDS ?? '0.25')
// Many short interleaved slices (node, noble, jose, node, ...), best slice of each: on a shared machine a
// busy moment should not decide a ratio, and every implementation gets the same treatment.
const rounds = Number(process.env.BENCH_ROUNDS ?? '12')

// Heap allocation per seal: force a GC, then run a batch of seals with no GC inside it (a gc observer tells;
// the batch halves until none happened) and add up what the young generation and ArrayBuffer memory grew by
// (Buffers live outside the V8 heap). `--expose-gc` is set at run time, so `npm run bench:seal` needs no flag.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
let gcCount = 0
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length
}).observe({ entryTypes: ['gc'] })
const settle = () => new Promise((r) => setTimeout(r, 30))
function young(): number {
  let n = process.memoryUsage().arrayBuffers
  for (const sp of getHeapSpaceStatistics())
    if (sp.space_name === 'new_space' || sp.space_name === 'new_large_object_space') n += sp.space_used_size
  return n
}

async function bytesPerSeal(seal: () => unknown | Promise<unknown>): Promise<number> {
  for (let batch = 64; batch >= 1; batch = Math.floor(batch / 2)) {
    gc()
    await settle()
    const before = gcCount
    const h0 = young()
    for (let i = 0; i < batch; i++) await seal()
    const h1 = young()
    await settle()
    if (gcCount === before && h1 > h0) return (h1 - h0) / batch
  }
  return Number.NaN
}

interface Rate {
  /** Operations per wall-clock second in this slice. */
  perSecond: number
  /** Operations and CPU seconds (user + system, all threads of the process) spent on them. */
  ops: number
  cpu: number
  next: number
}

async function rate(fn: (i: number) => unknown | Promise<unknown>, start: number, limit = Number.POSITIVE_INFINITY): Promise<Rate> {
  // As many calls as fit in the time budget; `fn` gets a running index, so a pool of distinct messages is
  // opened once each (a second open would be a replay).
  let k = start
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  let n = 0
  const stop = t0 + BigInt(Math.round(seconds * 1e9))
  while (k < limit && (n & 7 || process.hrtime.bigint() < stop)) {
    await fn(k++)
    n++
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const c = process.cpuUsage(c0)
  return { perSecond: n / wall, ops: n, cpu: (c.user + c.system) / 1e6, next: k }
}

interface Row {
  impl: string
  seals_per_s: number
  opens_per_s: number
  /** Per CPU second: steadier than wall time when the machine is shared. */
  seals_per_cpu_s: number
  opens_per_cpu_s: number
  wire_bytes: number
  heap_bytes_per_seal: number
}
const cpuTotals = new Map<string, { sealOps: number; sealCpu: number; openOps: number; openCpu: number }>()
interface Driver {
  impl: string
  seal: (seq: number) => string | Promise<string>
  makeOpen: () => (message: string) => Promise<unknown>
}

const sender = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const recipient = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const spki = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }))
const senderSpki = spki(sender.publicKey)
const recipientSpki = spki(recipient.publicKey)

function ours(name: 'node' | 'noble'): Driver {
  const provider = getProvider(name)
  const resolved = { spki: senderSpki, auth: 'dnssec' as const }
  const sealer = createSealer({ provider, senderName: SENDER, senderKey: sender.privateKey, recipientName: RECIPIENT, recipientSpki })
  return {
    impl: `daneel ${name}`,
    // the reading as it is (its own "seq":42 included), under the r claim beside the message's own seq
    seal: (seq) => sealer.seal(READING, { now: NOW, seq }),
    makeOpen() {
      const opener = createOpener({
        provider,
        recipientName: RECIPIENT,
        recipientKey: recipient.privateKey,
        trustedDomains: ['example.com'],
        clock: fixedClock(NOW),
        replay: createReplayWindow({ window: 65536 }),
        // a sender whose key is cached (as a directory holds it for its TTL): the synchronous path
        resolveSender: Object.assign(async () => resolved, { peek: () => resolved }),
      })
      return async (m) => opener.openNow(m)
    },
  }
}

function viaJose(): Driver {
  const x5u = `dns://${SENDER}?type=TLSA`
  const enc = new TextEncoder()
  const dec = new TextDecoder()
  return {
    impl: 'jose 6.2 (node)',
    async seal(seq) {
      const jwt = await new jose.SignJWT({ seq, r: READING })
        .setProtectedHeader({ alg: 'ES256', x5u })
        .setAudience(RECIPIENT)
        .setIssuedAt(NOW / 1000)
        .sign(sender.privateKey)
      return new jose.CompactEncrypt(enc.encode(jwt))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT' })
        .encrypt(recipient.publicKey)
    },
    makeOpen() {
      const replay = createReplayWindow({ window: 65536 })
      // The same checks as our opener: allow-lists, decrypt, verify, audience and time, sender name, replay.
      return async (m) => {
        const { plaintext } = await jose.compactDecrypt(m, recipient.privateKey, {
          keyManagementAlgorithms: ['ECDH-ES'],
          contentEncryptionAlgorithms: ['A256GCM'],
        })
        const { payload, protectedHeader } = await jose.jwtVerify(dec.decode(plaintext), sender.publicKey, {
          algorithms: ['ES256'],
          audience: RECIPIENT,
          maxTokenAge: 600,
          clockTolerance: 60,
          currentDate: new Date(NOW),
        })
        if (protectedHeader.x5u !== x5u || !replay.check(SENDER, payload.seq as number)) throw new Error('rejected')
      }
    },
  }
}

/**
 * The floor: the same message and the same checks written straight onto node:crypto, with nothing a library
 * would add (no key handles, no allow-list tables, no error types). What our opener costs beyond this is overhead.
 */
function byHand(): Driver {
  const x5u = `dns://${SENDER}?type=TLSA`
  const jwsHeader = Buffer.from(JSON.stringify({ alg: 'ES256', x5u })).toString('base64url')
  const signer = { key: sender.privateKey, dsaEncoding: 'ieee-p1363' as const }
  const verifier = { key: sender.publicKey, dsaEncoding: 'ieee-p1363' as const }
  const rjwk = recipient.publicKey.export({ format: 'jwk' })
  const recipientPoint = Buffer.concat([
    Buffer.of(4),
    Buffer.from(rjwk.x as string, 'base64url'),
    Buffer.from(rjwk.y as string, 'base64url'),
  ])
  const ours = createECDH('prime256v1')
  ours.setPrivateKey(Buffer.from(recipient.privateKey.export({ format: 'jwk' }).d as string, 'base64url'))
  // Concat KDF (RFC 7518 §4.6.2) for A256GCM, no apu/apv: counter 1, Z, then this OtherInfo
  const otherInfo = Buffer.from('000000074132353647434d000000000000000000000100', 'hex')
  const kdf = (z: Buffer) =>
    createHash('sha256')
      .update(Buffer.of(0, 0, 0, 1))
      .update(z)
      .update(otherInfo)
      .digest()
  return {
    impl: 'node:crypto by hand',
    seal(seq) {
      const claims = JSON.stringify({ aud: RECIPIENT, iat: NOW / 1000, seq, r: READING })
      const signingInput = `${jwsHeader}.${Buffer.from(claims).toString('base64url')}`
      const jws = `${signingInput}.${sign('sha256', Buffer.from(signingInput), signer).toString('base64url')}`
      const ecdh = createECDH('prime256v1')
      const epk = ecdh.generateKeys()
      const cek = kdf(ecdh.computeSecret(recipientPoint))
      const x = epk.subarray(1, 33).toString('base64url')
      const y = epk.subarray(33, 65).toString('base64url')
      const prot = Buffer.from(
        `{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT","epk":{"kty":"EC","crv":"P-256","x":"${x}","y":"${y}"}}`,
      ).toString('base64url')
      const iv = randomBytes(12)
      const c = createCipheriv('aes-256-gcm', cek, iv)
      c.setAAD(Buffer.from(prot, 'latin1'))
      const ct = Buffer.concat([c.update(jws, 'latin1'), c.final()])
      return `${prot}..${iv.toString('base64url')}.${ct.toString('base64url')}.${c.getAuthTag().toString('base64url')}`
    },
    makeOpen() {
      const replay = createReplayWindow({ window: 65536 })
      return async (m) => {
        const p = m.split('.')
        if (p.length !== 5 || p[1] !== '') throw new Error('rejected')
        const h = JSON.parse(Buffer.from(p[0] as string, 'base64url').toString())
        if (h.alg !== 'ECDH-ES' || h.enc !== 'A256GCM' || h.cty !== 'JWT' || h.epk?.kty !== 'EC' || h.epk.crv !== 'P-256')
          throw new Error('rejected')
        const point = Buffer.concat([Buffer.of(4), Buffer.from(h.epk.x, 'base64url'), Buffer.from(h.epk.y, 'base64url')])
        const d = createDecipheriv('aes-256-gcm', kdf(ours.computeSecret(point)), Buffer.from(p[2] as string, 'base64url'))
        d.setAAD(Buffer.from(p[0] as string, 'latin1'))
        d.setAuthTag(Buffer.from(p[4] as string, 'base64url'))
        const jws = Buffer.concat([d.update(Buffer.from(p[3] as string, 'base64url')), d.final()]).toString('latin1')
        const s1 = jws.indexOf('.')
        const s2 = jws.lastIndexOf('.')
        const jh = JSON.parse(Buffer.from(jws.slice(0, s1), 'base64url').toString())
        if (jh.alg !== 'ES256' || jh.x5u !== x5u) throw new Error('rejected')
        if (!verify('sha256', Buffer.from(jws.slice(0, s2), 'latin1'), verifier, Buffer.from(jws.slice(s2 + 1), 'base64url')))
          throw new Error('rejected')
        const claims = JSON.parse(Buffer.from(jws.slice(s1 + 1, s2), 'base64url').toString())
        if (claims.aud !== RECIPIENT || typeof claims.iat !== 'number' || Math.abs(NOW - claims.iat * 1000) > 600_000)
          throw new Error('rejected')
        if (!replay.check(SENDER, claims.seq)) throw new Error('rejected')
      }
    },
  }
}

const drivers = [byHand(), ours('node'), ours('noble'), viaJose()]
const results = new Map<string, Row>()
const pools = new Map<string, { messages: string[]; next: number; open: (m: string) => Promise<unknown> }>()
for (const d of drivers) {
  for (let i = 0; i < 30; i++) await d.seal(42) // warm-up (JIT)
  const wire = (await d.seal(42)).length
  cpuTotals.set(d.impl, { sealOps: 0, sealCpu: 0, openOps: 0, openCpu: 0 })
  results.set(d.impl, {
    impl: d.impl,
    seals_per_s: 0,
    opens_per_s: 0,
    seals_per_cpu_s: 0,
    opens_per_cpu_s: 0,
    wire_bytes: wire,
    heap_bytes_per_seal: await bytesPerSeal(() => d.seal(42)),
  })
}
for (let round = 0; round < rounds; round++) {
  for (const d of drivers) {
    const row = results.get(d.impl) as Row
    const t = cpuTotals.get(d.impl) as { sealOps: number; sealCpu: number; openOps: number; openCpu: number }
    const sr = await rate(() => d.seal(42), 0)
    row.seals_per_s = Math.max(row.seals_per_s, sr.perSecond)
    t.sealOps += sr.ops
    t.sealCpu += sr.cpu
    row.seals_per_cpu_s = t.sealOps / t.sealCpu
    let pool = pools.get(d.impl)
    if (pool === undefined) {
      // Distinct messages (seq 0, 1, ...), enough for every round at several times the sealing rate.
      const size = Math.min(60000, Math.ceil(row.seals_per_s * seconds * rounds * 6) + 200)
      const messages: string[] = []
      for (let i = 0; i < size; i++) messages.push(await d.seal(i))
      pool = { messages, next: 0, open: d.makeOpen() }
      pools.set(d.impl, pool)
      for (let i = 0; i < 30; i++) await pool.open(pool.messages[pool.next++] as string)
    }
    const p = pool
    const r = await rate((i) => p.open(p.messages[i] as string), p.next, p.messages.length)
    p.next = r.next
    row.opens_per_s = Math.max(row.opens_per_s, r.perSecond)
    t.openOps += r.ops
    t.openCpu += r.cpu
    row.opens_per_cpu_s = t.openOps / t.openCpu
  }
}

const rows = [...results.values()]
const handRow = rows[0] as Row
const joseRow = rows[3] as Row
if (json) {
  for (const r of rows)
    process.stdout.write(
      `${JSON.stringify({ bench: 'seal', ...r, seals_vs_hand_cpu: r.seals_per_cpu_s / handRow.seals_per_cpu_s, opens_vs_hand_cpu: r.opens_per_cpu_s / handRow.opens_per_cpu_s, seals_vs_jose_cpu: r.seals_per_cpu_s / joseRow.seals_per_cpu_s, opens_vs_jose_cpu: r.opens_per_cpu_s / joseRow.opens_per_cpu_s, load: loadavg()[0] })}\n`,
    )
} else {
  const f = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`
  const lines = [
    `bench:seal  reading ${READING_TEXT.length} bytes, names ${SENDER.length} chars, P-256 compact profile, one message at a time, node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`,
    '| implementation | seals/s | opens/s | seals/CPU-s | opens/CPU-s | seals vs by hand (CPU) | opens vs by hand (CPU) | seals vs jose (CPU) | opens vs jose (CPU) | bytes on the wire | heap bytes per seal |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.impl} | ${f(r.seals_per_s)} | ${f(r.opens_per_s)} | ${f(r.seals_per_cpu_s)} | ${f(r.opens_per_cpu_s)} | ${x(r.seals_per_cpu_s, handRow.seals_per_cpu_s)} | ${x(r.opens_per_cpu_s, handRow.opens_per_cpu_s)} | ${x(r.seals_per_cpu_s, joseRow.seals_per_cpu_s)} | ${x(r.opens_per_cpu_s, joseRow.opens_per_cpu_s)} | ${r.wire_bytes} | ${f(r.heap_bytes_per_seal)} |`,
    ),
    'seals/s and opens/s: best of the interleaved wall-clock slices; per CPU-s: all slices, process CPU time (user + system).',
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
