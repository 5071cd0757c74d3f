/** Pure-JS RSA for the noble provider (RFC 8017): RS256 and PS256 verify, RS256 sign, RSA-OAEP-256, with BigInt. */
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { concatBytes, constantTimeEqual } from '../bytes.js'
import { DaneelError } from '../errors.js'
import { bigToBytes, bytesToBig } from './der.js'

// BigInt arithmetic is not constant-time, so private operations are blinded (RFC 8017 §5.1.2 note; Kocher 1996)
// and the node provider, which uses OpenSSL, stays the default. Noble has no RSA; the valimail profile needs it.

export interface RsaPublic {
  readonly n: bigint
  readonly e: bigint
  /** Modulus length in bytes (k in RFC 8017). */
  readonly k: number
  readonly bits: number
}
export interface RsaPrivate extends RsaPublic {
  readonly d: bigint
  readonly p: bigint
  readonly q: bigint
  readonly dp: bigint
  readonly dq: bigint
  readonly qi: bigint
}

export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n
  let b = base % m
  let e = exp
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m
    b = (b * b) % m
    e >>= 1n
  }
  return r
}

function modInv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m]
  let [s0, s1] = [1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }
  if (r0 !== 1n) throw new DaneelError('ERR_KEY_INVALID', 'not invertible')
  return ((s0 % m) + m) % m
}

export function rsaPublic(n: bigint, e: bigint): RsaPublic {
  const bits = n.toString(2).length
  return { n, e, k: Math.ceil(bits / 8), bits }
}

/** m^d mod n by the CRT, blinded with a fresh random r. */
function privateOp(key: RsaPrivate, c: bigint): bigint {
  let r = 0n
  while (r < 2n) r = bytesToBig(randomBytes(key.k)) % key.n
  const blinded = (c * modPow(r, key.e, key.n)) % key.n
  const m1 = modPow(blinded % key.p, key.dp, key.p)
  const m2 = modPow(blinded % key.q, key.dq, key.q)
  const h = (key.qi * ((m1 - m2 + key.p) % key.p)) % key.p
  const m = (m2 + h * key.q) % key.n
  return (m * modInv(r, key.n)) % key.n
}

/** MGF1 with SHA-256 (RFC 8017 §B.2.1). */
function mgf1(seed: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(len / 32) * 32)
  const input = new Uint8Array(seed.length + 4)
  input.set(seed)
  for (let i = 0; i * 32 < len; i++) {
    input[seed.length + 3] = i & 0xff
    input[seed.length + 2] = (i >>> 8) & 0xff
    out.set(sha256(input), i * 32)
  }
  return out.subarray(0, len)
}

// DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO = Uint8Array.from(Buffer.from('3031300d060960864801650304020105000420', 'hex'))

function pkcs1v15Encoding(k: number, data: Uint8Array): Uint8Array {
  const t = concatBytes(SHA256_DIGEST_INFO, sha256(data))
  if (k < t.length + 11) throw new DaneelError('ERR_KEY_INVALID', 'RSA modulus too short')
  const em = new Uint8Array(k).fill(0xff)
  em[0] = 0
  em[1] = 1
  em[k - t.length - 1] = 0
  em.set(t, k - t.length)
  return em
}

/** RSASSA-PKCS1-v1_5 with SHA-256 (RS256). */
export function rs256Sign(key: RsaPrivate, data: Uint8Array): Uint8Array {
  return bigToBytes(privateOp(key, bytesToBig(pkcs1v15Encoding(key.k, data))), key.k)
}

export function rs256Verify(key: RsaPublic, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== key.k) return false
  const s = bytesToBig(sig)
  if (s >= key.n) return false
  return constantTimeEqual(bigToBytes(modPow(s, key.e, key.n), key.k), pkcs1v15Encoding(key.k, data))
}

/** RSASSA-PSS verify with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256, RFC 7518 §3.5; RFC 8017 §9.1.2). */
export function ps256Verify(key: RsaPublic, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== key.k) return false
  const s = bytesToBig(sig)
  if (s >= key.n) return false
  const emBits = key.bits - 1
  const emLen = Math.ceil(emBits / 8)
  const em = bigToBytes(modPow(s, key.e, key.n), key.k).subarray(key.k - emLen)
  const hLen = 32
  const sLen = 32
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false
  const maskedDb = em.subarray(0, emLen - hLen - 1)
  const h = em.subarray(emLen - hLen - 1, emLen - 1)
  const topMask = 0xff >>> (8 * emLen - emBits)
  if (((maskedDb[0] as number) & ~topMask) !== 0) return false
  const db = mgf1(h, maskedDb.length)
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number)
  db[0] = (db[0] as number) & topMask
  const psLen = emLen - hLen - sLen - 2
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false
  if (db[psLen] !== 1) return false
  const mPrime = concatBytes(new Uint8Array(8), sha256(data), db.subarray(db.length - sLen))
  return constantTimeEqual(sha256(mPrime), h)
}

const EMPTY_LABEL_HASH = sha256(new Uint8Array(0))

/** RSAES-OAEP encrypt, SHA-256 and MGF1-SHA-256, empty label (RFC 8017 §7.1.1). */
export function oaepEncrypt(key: RsaPublic, msg: Uint8Array): Uint8Array {
  const hLen = 32
  if (msg.length > key.k - 2 * hLen - 2) throw new DaneelError('ERR_KEY_INVALID', 'message too long for RSA-OAEP')
  const db = new Uint8Array(key.k - hLen - 1)
  db.set(EMPTY_LABEL_HASH, 0)
  db[db.length - msg.length - 1] = 1
  db.set(msg, db.length - msg.length)
  const seed = randomBytes(hLen)
  const dbMask = mgf1(seed, db.length)
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (dbMask[i] as number)
  const seedMask = mgf1(db, hLen)
  for (let i = 0; i < hLen; i++) seed[i] = (seed[i] as number) ^ (seedMask[i] as number)
  const em = concatBytes(Uint8Array.of(0), seed, db)
  return bigToBytes(modPow(bytesToBig(em), key.e, key.n), key.k)
}

/** RSAES-OAEP decrypt; every failure is the same error, so no padding oracle (Manger 2001). */
export function oaepDecrypt(key: RsaPrivate, ct: Uint8Array): Uint8Array {
  const fail = (): DaneelError => new DaneelError('ERR_JWE_DECRYPT', 'cannot decrypt', { cause: new Error('RSA-OAEP decoding error') })
  const hLen = 32
  if (ct.length !== key.k || key.k < 2 * hLen + 2) throw fail()
  const c = bytesToBig(ct)
  if (c >= key.n) throw fail()
  const em = bigToBytes(privateOp(key, c), key.k)
  const maskedSeed = em.subarray(1, 1 + hLen)
  const maskedDb = em.subarray(1 + hLen)
  const seed = mgf1(maskedDb, hLen)
  for (let i = 0; i < hLen; i++) seed[i] = (seed[i] as number) ^ (maskedSeed[i] as number)
  const db = mgf1(seed, maskedDb.length)
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number)
  let bad = em[0] as number
  for (let i = 0; i < hLen; i++) bad |= (db[i] as number) ^ (EMPTY_LABEL_HASH[i] as number)
  let sep = -1
  for (let i = hLen; i < db.length; i++) {
    if (sep === -1 && db[i] === 1) sep = i
    else if (sep === -1 && db[i] !== 0) bad |= 1
  }
  if (bad !== 0 || sep === -1) throw fail()
  return db.slice(sep + 1)
}
