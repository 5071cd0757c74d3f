/** bench:identity — time to create an identity per key type, against `openssl req -x509 -newkey` in the same run; plus parse and match costs against node's X509Certificate. */
import { spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { matchTlsa } from '../src/dane/match.js'
import { makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity } from '../src/identity/store.js'
import { buildSelfSignedCertificate } from '../src/x509/build.js'
import { parseCertificate } from '../src/x509/cert.js'
import { generateKeyPair, type KeyTypeOption, privateKeyToPkcs8Pem } from '../src/x509/keys.js'

const NAME = 'c90a0d441683.airquality._device.example.com'
const json = process.argv.includes('--json')
const scale = Number(process.env.BENCH_SCALE ?? '1')
const dir = mkdtempSync(join(tmpdir(), 'daneel-bench-identity-'))

interface Row {
  what: string
  keyType: string
  impl: string
  n: number
  msPerOp: number
}
const rows: Row[] = []

function time(n: number, fn: (i: number) => void): number {
  fn(-1) // warm up (JIT, OpenSSL provider loading)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn(i)
  return Number(process.hrtime.bigint() - t0) / 1e6 / n
}

const OPENSSL_KEY: Record<KeyTypeOption, string[]> = {
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['-newkey', 'ed25519'],
  rsa2048: ['-newkey', 'rsa:2048'],
}
const COUNTS: Record<KeyTypeOption, number> = { p256: 40, ed25519: 40, rsa2048: 10 }

try {
  for (const type of ['p256', 'ed25519', 'rsa2048'] as const) {
    const n = Math.max(2, Math.round(COUNTS[type] * scale))
    // ours, in process: key generation, certificate, PKCS#8 and PEM, atomic writes with fsync
    const ours = time(n, (i) => {
      createIdentity({ cryptoPath: join(dir, `ours-${type}`), daneId: NAME, keyType: type, force: true, now: Date.now() + i })
    })
    rows.push({
      what: 'create identity (key + self-signed cert, written)',
      keyType: type,
      impl: 'daneel createIdentity (in process)',
      n,
      msPerOp: ours,
    })
    // the same work without the disk: what fsync (file + directory, twice) costs above it
    const mem = time(n, () => {
      const { privateKey } = generateKeyPair(type)
      privateKeyToPkcs8Pem(privateKey)
      buildSelfSignedCertificate({ name: NAME, key: privateKey })
    })
    rows.push({
      what: 'key + self-signed cert, in memory only',
      keyType: type,
      impl: 'daneel generateKeyPair + buildSelfSigned',
      n,
      msPerOp: mem,
    })
    // the peer: one openssl process per identity, as a provisioning script would run it
    const peer = time(n, () => {
      const r = spawnSync('openssl', [
        'req',
        '-x509',
        ...OPENSSL_KEY[type],
        '-nodes',
        '-keyout',
        join(dir, `o-${type}.key`),
        '-out',
        join(dir, `o-${type}.crt`),
        '-days',
        '365',
        '-subj',
        `/CN=${NAME}`,
        '-addext',
        `subjectAltName=DNS:${NAME}`,
      ])
      if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`)
    })
    rows.push({
      what: 'create identity (key + self-signed cert, written)',
      keyType: type,
      impl: 'openssl req -x509 -newkey (process)',
      n,
      msPerOp: peer,
    })
    // the whole CLI, as an operator runs it (includes Node start-up)
    const cliN = Math.max(2, Math.round(5 * scale))
    const cli = time(cliN, () => {
      const r = spawnSync(
        process.execPath,
        [
          join(import.meta.dirname ?? '.', '../cli/main.js'),
          'identity',
          'create',
          '--force',
          '--key-type',
          type,
          '--crypto-path',
          join(dir, `cli-${type}`),
          '--dane-id',
          NAME,
        ],
        { encoding: 'utf8' },
      )
      if (r.status !== 0) throw new Error(`daneel identity create failed: ${r.stderr}`)
    })
    rows.push({
      what: 'create identity (key + self-signed cert, written)',
      keyType: type,
      impl: 'daneel identity create (process)',
      n: cliN,
      msPerOp: cli,
    })
  }

  // parsing and matching, per certificate: ours (asn1js) against node's X509Certificate (OpenSSL)
  const id = createIdentity({ cryptoPath: join(dir, 'm'), daneId: NAME, keyType: 'p256', force: true })
  const der = (id.cert as NonNullable<typeof id.cert>).der
  const n = Math.round(3000 * scale)
  rows.push({
    what: 'parse certificate',
    keyType: 'p256',
    impl: 'daneel parseCertificate (asn1js)',
    n,
    msPerOp: time(n, () => parseCertificate(der)),
  })
  rows.push({
    what: 'parse certificate',
    keyType: 'p256',
    impl: 'node:crypto X509Certificate + SAN',
    n,
    msPerOp: time(n, () => new X509Certificate(der).subjectAltName),
  })
  const cert = parseCertificate(der)
  const rrset = [makeTlsaRecord(cert, 3, 1, 1), makeTlsaRecord(cert, 3, 0, 0)]
  rows.push({
    what: 'match 3 1 1 + 3 0 0 RRset',
    keyType: 'p256',
    impl: 'daneel matchTlsa',
    n,
    msPerOp: time(n, () => matchTlsa(rrset, [cert], { now: Date.now() })),
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}

if (json) {
  for (const r of rows) process.stdout.write(`${JSON.stringify({ bench: 'identity', ...r, msPerOp: Number(r.msPerOp.toFixed(4)) })}\n`)
} else {
  process.stdout.write(`bench:identity (node ${process.version}, ${spawnSync('openssl', ['version']).stdout.toString().trim()})\n\n`)
  const w = Math.max(...rows.map((r) => r.impl.length))
  process.stdout.write(`${'what'.padEnd(50)} ${'key'.padEnd(8)} ${'implementation'.padEnd(w)} ${'n'.padStart(5)} ${'ms/op'.padStart(9)}\n`)
  for (const r of rows)
    process.stdout.write(
      `${r.what.padEnd(50)} ${r.keyType.padEnd(8)} ${r.impl.padEnd(w)} ${String(r.n).padStart(5)} ${r.msPerOp.toFixed(3).padStart(9)}\n`,
    )
}
