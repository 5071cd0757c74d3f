/** DNSKEY handling: key tags (RFC 4034 App. B), DS digests (RFC 4034 §5.1.4, RFC 4509, RFC 6605), key import and signature checks. */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { Lru } from '../../lru.js'
import { type Name, nameToWire } from '../name.js'
import { parseDnskey } from '../rdata.js'

/** Algorithms we validate (RFC 8624 §3.1 MUST/RECOMMENDED): 5/7 RSASHA1, 8 RSASHA256, 10 RSASHA512, 13/14 ECDSA, 15/16 EdDSA. */
export const SUPPORTED_ALGORITHMS: ReadonlySet<number> = new Set([5, 7, 8, 10, 13, 14, 15, 16])
/** DS digest types: 1 SHA-1 (validate only), 2 SHA-256, 4 SHA-384. */
export const SUPPORTED_DIGESTS: ReadonlySet<number> = new Set([1, 2, 4])

const HASH: Record<number, string | null> = {
  5: 'sha1',
  7: 'sha1',
  8: 'sha256',
  10: 'sha512',
  13: 'sha256',
  14: 'sha384',
  15: null,
  16: null,
}
const DIGEST: Record<number, string> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' }

/** RFC 4034 Appendix B key tag over the DNSKEY RDATA (algorithm 1's special case is not supported anyway). */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? (rdata[i] as number) : (rdata[i] as number) << 8
  ac += (ac >>> 16) & 0xffff
  return ac & 0xffff
}

/** The DS digest of a DNSKEY: hash(owner wire | DNSKEY RDATA); undefined for an unsupported digest type. */
export function dsDigest(owner: Name, dnskeyRdata: Uint8Array, digestType: number): Uint8Array | undefined {
  const alg = DIGEST[digestType]
  if (alg === undefined) return undefined
  return new Uint8Array(createHash(alg).update(nameToWire(owner)).update(dnskeyRdata).digest())
}

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url')

function importKey(algorithm: number, key: Uint8Array): KeyObject | undefined {
  switch (algorithm) {
    case 5:
    case 7:
    case 8:
    case 10: {
      // RFC 3110 §2: exponent length (1 byte, or 0 then 2 bytes), exponent, modulus.
      let off = 1
      let elen = key[0] ?? 0
      if (elen === 0) {
        elen = ((key[1] ?? 0) << 8) | (key[2] ?? 0)
        off = 3
      }
      const e = key.subarray(off, off + elen)
      const n = key.subarray(off + elen)
      if (elen === 0 || e.length !== elen || n.length < 128 || n.length > 512) return undefined // 1024..4096 bits
      return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' })
    }
    case 13:
    case 14: {
      // RFC 6605 §4: the public key is X | Y.
      const size = algorithm === 13 ? 32 : 48
      if (key.length !== 2 * size) return undefined
      return createPublicKey({
        key: { kty: 'EC', crv: algorithm === 13 ? 'P-256' : 'P-384', x: b64u(key.subarray(0, size)), y: b64u(key.subarray(size)) },
        format: 'jwk',
      })
    }
    case 15:
    case 16: {
      // RFC 8080 §3: the raw public key.
      if (key.length !== (algorithm === 15 ? 32 : 57)) return undefined
      return createPublicKey({ key: { kty: 'OKP', crv: algorithm === 15 ? 'Ed25519' : 'Ed448', x: b64u(key) }, format: 'jwk' })
    }
    default:
      return undefined
  }
}

// Imported keys by RDATA: a zone's DNSKEY set is reused for every answer, and importing costs more than verifying.
const KEY_CACHE_MAX = 512
const keyCache = new Lru<string, KeyObject | null>(KEY_CACHE_MAX)

/** The node:crypto public key for DNSKEY RDATA, or undefined when the algorithm is unsupported or the key malformed. */
export function dnskeyPublicKey(rdata: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(rdata).toString('base64')
  const hit = keyCache.peek(id)
  if (hit !== undefined) return hit ?? undefined
  const k = parseDnskey(rdata)
  let obj: KeyObject | undefined
  try {
    obj = importKey(k.algorithm, k.key)
  } catch {
    obj = undefined
  }
  keyCache.set(id, obj ?? null)
  return obj
}

/** Verifies a DNSSEC signature (ECDSA signatures are r | s, RFC 6605 §4; RSA PKCS#1 v1.5, RFC 5702). */
export function verifySignature(algorithm: number, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const hash = HASH[algorithm]
  if (hash === undefined) return false
  try {
    if (algorithm === 13 || algorithm === 14) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    return verify(hash, data, key, signature)
  } catch {
    return false
  }
}
