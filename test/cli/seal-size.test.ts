/** The 79-byte benchmark reading (its own "seq":42) sealed by `daneel seal`: where every byte on the wire goes, the floor proven, jose opening it. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as jose from 'jose'
import { selfSignedIdentityArgs } from '../../testkit/openssl.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

/*
 * Where the bytes go (bench/seal.ts: this reading, 35-character names, P-256 keys). b64(n) = ceil(4n/3), no padding.
 *
 *   JWE = b64(H) "." "" "." b64(iv) "." b64(J) "." b64(tag)          (RFC 7516 §7.1; ECDH-ES: no encrypted key)
 *     H   = {"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT","epk":{"kty":"EC","crv":"P-256","x":"<43>","y":"<43>"}}
 *         = 17 + 16 + 12 + 6 + 12 + 14 + 50 + 49 + 2 = 178 bytes -> 238
 *     iv  = 12 bytes (A256GCM: a 96-bit IV is REQUIRED, RFC 7518 §5.3) -> 16;  tag = 16 bytes (128 bits, REQUIRED) -> 22
 *     J   = b64(S) "." b64(C) "." b64(sig)                           (the inner compact JWS, the JWE plaintext)
 *       S   = {"alg":"ES256","x5u":"dns://<sender 35>?type=TLSA"} = 15 + 7 + 6 + 35 + 10 + 2 = 75 -> 100
 *       C   = {"aud":"<recipient 35>","iat":1764100000,"seq":43,"r":<the reading, 79>}
 *           = 1 + 6 + 37 + 1 + 6 + 10 + 1 + 6 + 2 + 1 + 4 + 79 + 1 = 155 -> 207
 *       sig = 64 bytes (ES256: R || S, RFC 7518 §3.4) -> 86
 *       J   = 100 + 1 + 207 + 1 + 86 = 395 bytes -> 527
 *   total = 238 + 4 + 16 + 527 + 22 = 807
 *
 * Nothing in it is optional in the contract (docs/contract.md "Wire format"): no whitespace, no `typ`, no `iss`, no
 * recipient `x5u`, no `kid`; alg/enc/epk are what ECDH-ES needs, `cty":"JWT"` is what RFC 7519 §5.2 requires of a
 * nested JWT, and the epk holds exactly the members a P-256 public JWK must have (RFC 7518 §6.2.1: kty, crv, x, y;
 * §4.6.1.1 asks for no more than that minimum, and a JWK has no compressed point form); `zip` is excluded by
 * the contract. The claims are aud, iat, seq and `r` with the reading's 79 bytes as given. So 807 is the floor
 * for these names: reaching 800 would take 7 characters out of b64(H) (H <= 173) or out of b64(J) (J <= 390),
 * i.e. 5 bytes out of members that are all required. It is reached by names 4 characters shorter together
 * (35 + 31: S = 75, C = 151 -> 202, J = 390 -> 520, total 800), or by the contract's optional Ed25519/X25519
 * keys: epk {"kty":"OKP","crv":"X25519","x":"<43>"} makes H = 130 -> 174, EdDSA signatures are 64 bytes too,
 * total 174 + 4 + 16 + 527 + 22 = 743.
 */
const READING = '{"pm25":12.3,"pm10":20.1,"co2":612,"t":21.4,"rh":40.2,"ts":1764100000,"seq":42}'
const TX = 'c90a0d441683.aq._device.example.com'
const RX = 'b5e1f0a2c3d4.gw._device.example.com'
const b64 = (n: number): number => Math.ceil((4 * n) / 3)
const dec = (part: string): string => Buffer.from(part, 'base64url').toString('latin1')

const tmp = makeTempDir('daneel-seal-size-')
after(() => tmp.cleanup())
const file = (type: string, name: string, ext: string): string => join(tmp.dir, `${type}.${name}.${ext}`)

function run(cmd: string, args: string[], input = ''): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', CI: 'true' } })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

/** Seals READING from TX to RX with `type` keys (the message's own seq 43), opens it with `daneel open`. */
function sealAndOpen(type: 'p256' | 'ed25519'): string {
  const sealed = run(
    process.execPath,
    [cliPath, 'seal', '--to', RX, '--cert', file(type, RX, 'crt.pem'), '--key', file(type, TX, 'key.pem'), '--dane-id', TX, '--seq', '43'],
    READING,
  ).trim()
  const o = JSON.parse(
    run(
      process.execPath,
      [cliPath, 'open', '--cert', file(type, TX, 'crt.pem'), '--key', file(type, RX, 'key.pem'), '--dane-id', RX],
      sealed,
    ),
  )
  assert.deepEqual(o.reading, JSON.parse(READING))
  assert.equal(o.claims.seq, 43, 'the message seq is ours; the reading keeps its own')
  return sealed
}

/** jose (the npm package) decrypts with `key` and verifies with the sender's certificate; returns the JWS text. */
async function joseOpens(sealed: string, key: KeyObject, type: 'p256' | 'ed25519'): Promise<string> {
  const d = await jose.compactDecrypt(sealed, key)
  assert.equal(d.protectedHeader.cty, 'JWT')
  const jws = Buffer.from(d.plaintext).toString('latin1')
  const v = await jose.jwtVerify(jws, createPublicKey(readFileSync(file(type, TX, 'crt.pem'))), { audience: RX })
  assert.equal(v.protectedHeader.x5u, `dns://${TX}?type=TLSA`)
  assert.deepEqual(v.payload.r, JSON.parse(READING))
  assert.equal(v.payload.seq, 43)
  return jws
}

describe('the 79-byte benchmark reading through `daneel seal` (bench/seal.ts: its own "seq":42, 35-character names)', () => {
  before(() => {
    for (const type of ['p256', 'ed25519'] as const)
      for (const name of [TX, RX])
        run('openssl', selfSignedIdentityArgs(type, name, { key: file(type, name, 'key.pem'), cert: file(type, name, 'crt.pem') }))
  })

  it('P-256: every part at its minimum, 807 bytes (the floor: see above), opened by daneel and by jose', async (t) => {
    assert.equal(Buffer.byteLength(READING), 79)
    const sealed = sealAndOpen('p256')
    const [h, ek, iv, ct, tag] = sealed.split('.') as [string, string, string, string, string]
    const H = dec(h)
    const jws = await joseOpens(sealed, createPrivateKey(readFileSync(file('p256', RX, 'key.pem'))), 'p256')
    const [s, c, sig] = jws.split('.') as [string, string, string]
    const S = dec(s)
    const C = dec(c)
    t.diagnostic(`JWE header (${H.length} B): ${H}`)
    t.diagnostic(`JWS header (${S.length} B): ${S}`)
    t.diagnostic(`claims (${C.length} B): ${C}`)
    // no whitespace, no member beyond the required ones, in the order the arithmetic above counts them
    for (const json of [H, S, C]) assert.equal(JSON.stringify(JSON.parse(json)), json)
    const header = JSON.parse(H)
    assert.deepEqual(Object.keys(header), ['alg', 'enc', 'cty', 'epk'])
    assert.deepEqual([header.alg, header.enc, header.cty], ['ECDH-ES', 'A256GCM', 'JWT'])
    assert.deepEqual(Object.keys(header.epk), ['kty', 'crv', 'x', 'y'])
    assert.deepEqual([header.epk.x.length, header.epk.y.length], [43, 43])
    assert.equal(S, `{"alg":"ES256","x5u":"dns://${TX}?type=TLSA"}`)
    assert.equal(C, `{"aud":"${RX}","iat":${JSON.parse(C).iat},"seq":43,"r":${READING}}`)
    assert.deepEqual([H.length, S.length, C.length, dec(sig).length, dec(iv).length, dec(tag).length, ek], [178, 75, 155, 64, 12, 16, ''])
    assert.equal(jws.length, b64(75) + 1 + b64(155) + 1 + b64(64))
    assert.equal(jws.length, 395)
    assert.equal(ct.length, b64(395))
    assert.equal(sealed.length, b64(178) + 4 + b64(12) + b64(395) + b64(16))
    assert.equal(sealed.length, 807)
  })

  it("Ed25519/X25519 keys (the contract's optional ones): the same reading in 743 bytes, opened by daneel and by jose", async (t) => {
    const sealed = sealAndOpen('ed25519')
    const H = dec(sealed.split('.')[0] as string)
    t.diagnostic(`JWE header (${H.length} B): ${H}; total ${sealed.length} B`)
    assert.deepEqual(Object.keys(JSON.parse(H).epk), ['kty', 'crv', 'x'])
    assert.equal(sealed.length, b64(130) + 4 + b64(12) + b64(395) + b64(16))
    assert.ok(sealed.length <= 800)
    // jose takes X25519 keys: the recipient's, from its Ed25519 seed as RFC 8032 §5.1.5 / RFC 7748 map it
    const seed = Buffer.from(
      createPrivateKey(readFileSync(file('ed25519', RX, 'key.pem'))).export({ format: 'jwk' }).d as string,
      'base64url',
    )
    const secret = createHash('sha512').update(seed).digest().subarray(0, 32)
    const x25519 = createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), secret]),
      format: 'der',
      type: 'pkcs8',
    })
    await joseOpens(sealed, x25519, 'ed25519')
  })
})
