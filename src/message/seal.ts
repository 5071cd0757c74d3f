/** Sealing a reading: a nested JWT (RFC 7519 §5.2), signed JWS inside a JWE, with every header built once per pair. */
import type { KeyObject } from 'node:crypto'
import { concatKdfOtherInfo } from '../crypto/kdf.js'
import type { CryptoProvider, PrivateKey, PublicKey } from '../crypto/provider.js'
import { DaneelError } from '../errors.js'
import { b64urlEncode, b64urlEncodeString } from '../jose/b64url.js'
import { ByteWriter } from '../jose/byte-writer.js'
import { writeEpk } from '../jose/jwe.js'
import { createJwsSigner } from '../jose/jws.js'
import { jwsAlgFor, PROFILES, type ProfileName, profileForRecipient, type Serialization } from '../jose/profiles.js'
import { readingJson } from './claims.js'
import { wrapWorkshop } from './legacy.js'
import { formatX5u, normalizeName } from './x5u.js'

/*
 * Header members, and why each is there (bytes before base64url):
 *   JWS {"alg":"ES256","x5u":"dns://<sender>?type=TLSA"}  alg (15): the verifier's allow-list needs it;
 *       x5u (25 + name): names the sender, signed, so the receiver knows which TLSA RRset to look up.
 *   JWE {"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT","epk":{...}}  alg/enc (33): key agreement and cipher;
 *       cty (12): RFC 7519 §5.2 requires it for a nested JWT; epk (about 125 for P-256, 73 for X25519): the
 *       sender's ephemeral public key. The recipient `x5u` is optional in "compact" (the MQTT topic already
 *       names the recipient, and `aud` binds it inside), and required, as docs/contract.md "Wire format" gives it, in "valimail".
 * No `kid`, `typ`, `iat` in headers, no `zip` ever (compression before encryption leaks content length).
 */

export interface SealerOptions {
  provider: CryptoProvider
  /** Our identity name (the JWS `x5u`). */
  senderName: string
  senderKey: PrivateKey | KeyObject | Uint8Array
  recipientName: string
  /** The recipient's SubjectPublicKeyInfo DER (from its certificate or TLSA record). */
  recipientSpki: Uint8Array
  /** Default: "valimail" for an RSA recipient, "compact" otherwise. */
  profile?: ProfileName
  /** Default: the profile's ("compact" or flattened "json"). */
  serialization?: Serialization
  /** Add `iss` (the sender name) to the claims; off by default (the signed x5u already names the sender). */
  includeIss?: boolean
  /** Put the recipient `x5u` in the JWE header of the compact profile (always there in valimail). */
  recipientX5u?: boolean
  /** valimail only: sign the bytes of a Uint8Array reading as they are, with no claims (for the original system's receivers). */
  raw?: boolean
}

export interface SealContext {
  /** Milliseconds since the epoch (the `iat` claim is in seconds). */
  now: number
  /** This sender's sequence number for the message. */
  seq: number
}

export interface Sealer {
  readonly profile: ProfileName
  readonly serialization: Serialization
  seal(reading: object | Uint8Array, ctx: SealContext): string
}

function importSender(provider: CryptoProvider, key: PrivateKey | KeyObject | Uint8Array): PrivateKey {
  if (key instanceof Uint8Array) return provider.importPrivateKey(key)
  if ('publicKey' in key && 'kind' in key) return key as PrivateKey
  return provider.importPrivateKey(key as KeyObject)
}

/**
 * What to do when the recipient's key does not fit the profile. The common case: an original-system sender
 * (RSA-2048, valimail) told to seal to one of our P-256 nodes; dane_jwe_jws can only encrypt to RSA.
 */
function recipientAdvice(profile: ProfileName, kind: string): string {
  if (profile !== 'compact')
    return `the recipient has a ${kind} key, and the ${profile} profile (the original system's) encrypts only to RSA: leave --profile out (a ${kind} recipient reads the compact profile), or give the recipient an rsa2048 identity`
  return `the compact profile cannot encrypt to a ${kind} key: an RSA recipient reads --profile valimail (or workshop)`
}

/** What to do when our key cannot sign under the profile the recipient reads: an RSA sender and a P-256/Ed25519 recipient. */
function senderAdvice(profile: ProfileName, kind: string): string {
  if (profile === 'compact' && kind === 'rsa')
    return "the recipient reads the compact profile (ES256/EdDSA signatures), which an RSA-2048 sender key cannot make: create a p256 identity for this sender ('daneel identity create --key-type p256 --force', then publish its TLSA record from 'daneel identity tlsa'), or give the recipient an rsa2048 identity so it reads the original system's valimail profile"
  return `the ${profile} profile cannot sign with a ${kind} key: it needs an RSA-2048 sender key ('daneel identity create --key-type rsa2048')`
}

/** The DEF CON 29 workshop's form (src/message/legacy.ts): the payload as given, no claims, base64 of a JSON JWE. */
function workshopSealer(
  provider: CryptoProvider,
  alg: ReturnType<typeof jwsAlgFor>,
  key: PrivateKey,
  sender: string,
  recipient: PublicKey,
): Sealer {
  const signer = createJwsSigner(provider, alg, key, `{"alg":"${alg}","x5u":"${sender}"}`)
  const prot = b64urlEncodeString('{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","typ":"JWE"}')
  const aad = Buffer.from(prot, 'latin1')
  return {
    profile: 'workshop',
    serialization: 'json',
    seal(reading) {
      const payload = reading instanceof Uint8Array ? reading : Buffer.from(JSON.stringify(reading), 'utf8')
      const plaintext = Buffer.from(signer.json(payload), 'latin1')
      const cek = provider.randomBytes(64)
      const ek = b64urlEncode(provider.rsaOaepEncrypt(recipient, cek))
      const iv = provider.randomBytes(16)
      const { ciphertext, tag } = provider.cbcHmacEncrypt(cek, iv, plaintext, aad)
      return wrapWorkshop(
        `{"protected":"${prot}","encrypted_key":"${ek}","iv":"${b64urlEncode(iv)}","ciphertext":"${b64urlEncode(ciphertext)}","tag":"${b64urlEncode(tag)}"}`,
      )
    },
  }
}

/** Builds a sealer for one sender and one recipient: keys imported and headers encoded here, once. */
export function createSealer(opts: SealerOptions): Sealer {
  const { provider } = opts
  const sender = normalizeName(opts.senderName)
  const recipientName = normalizeName(opts.recipientName)
  const senderKey = importSender(provider, opts.senderKey)
  const recipient: PublicKey = provider.importPublicKey(opts.recipientSpki)
  const profile = opts.profile === undefined ? profileForRecipient(recipient.kind) : PROFILES[opts.profile]
  const serialization = opts.serialization ?? profile.serialization
  const rsaProfile = profile.jweAlg === 'RSA-OAEP-256'
  if (rsaProfile !== (recipient.kind === 'rsa')) throw new DaneelError('ERR_KEY_UNSUPPORTED', recipientAdvice(profile.name, recipient.kind))
  const alg = jwsAlgFor(senderKey.kind)
  if (!profile.jwsAlgs.includes(alg)) throw new DaneelError('ERR_KEY_UNSUPPORTED', senderAdvice(profile.name, senderKey.kind))
  if (profile.name === 'workshop') return workshopSealer(provider, alg, senderKey, sender, recipient)
  if (opts.raw === true && profile.name !== 'valimail')
    throw new DaneelError('ERR_USAGE', 'raw payloads exist only in the valimail profile')

  const signer = createJwsSigner(provider, alg, senderKey, `{"alg":"${alg}","x5u":"${formatX5u(sender)}"}`)
  const claimsHead = `{"aud":"${recipientName}",${opts.includeIss === true ? `"iss":"${sender}",` : ''}"iat":`
  // Reused for every seal (byte-writer.ts): the claims, the inner JWS, and the outer JWE with its header.
  const claims = new ByteWriter(512)
  const jws = new ByteWriter(1024)
  const writeClaims = (reading: object | Uint8Array, ctx: SealContext): ByteWriter => {
    if (!Number.isSafeInteger(ctx.seq) || ctx.seq < 0) throw new RangeError(`seq must be a non-negative safe integer, not ${ctx.seq}`)
    const w = claims
      .reset()
      .utf8(claimsHead)
      .uint(Math.floor(ctx.now / 1000))
      .ascii(',"seq":')
      .uint(ctx.seq)
    if (reading instanceof Uint8Array) return w.ascii(',"b":"').b64url(reading).ascii('"}')
    return w.ascii(',"r":').utf8(readingJson(reading)).ascii('}')
  }
  /** The JWE plaintext: a view valid until the next seal. */
  const inner = (reading: object | Uint8Array, ctx: SealContext): Uint8Array => {
    const payload = opts.raw === true && reading instanceof Uint8Array ? reading : writeClaims(reading, ctx).view()
    if (serialization !== 'compact') return Buffer.from(signer.json(payload), 'latin1')
    signer.compactInto(payload, jws.reset())
    return jws.view()
  }
  const assemble = (prot: string, ek: string, iv: Uint8Array, ct: Uint8Array, tag: Uint8Array): string =>
    serialization === 'compact'
      ? `${prot}.${ek}.${b64urlEncode(iv)}.${b64urlEncode(ct)}.${b64urlEncode(tag)}`
      : `{"protected":"${prot}",${ek === '' ? '' : `"encrypted_key":"${ek}",`}"iv":"${b64urlEncode(iv)}","ciphertext":"${b64urlEncode(ct)}","tag":"${b64urlEncode(tag)}"}`

  if (profile.jweAlg === 'ECDH-ES') {
    const headHead = `{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT",${opts.recipientX5u === true ? `"x5u":"${formatX5u(recipientName)}",` : ''}"epk":`
    const epkKind = recipient.kind === 'p256' ? 'p256' : 'x25519'
    const otherInfo = concatKdfOtherInfo(profile.enc, 256)
    const header = new ByteWriter(256)
    const out = new ByteWriter(2048)
    return {
      profile: profile.name,
      serialization,
      seal(reading, ctx) {
        const plaintext = inner(reading, ctx)
        const { epk, z } = provider.agreeEphemeral(recipient)
        const cek = provider.concatKdf(z, 256, otherInfo)
        header.reset().utf8(headHead)
        writeEpk(header, epkKind, epk)
        header.ascii('}')
        const iv = provider.randomBytes(12)
        if (serialization !== 'compact') {
          const prot = header.view().toString('base64url')
          const { ciphertext, tag } = provider.aesGcmEncrypt(cek, iv, plaintext, Buffer.from(prot, 'latin1'))
          return assemble(prot, '', iv, ciphertext, tag)
        }
        // BASE64URL(header) is both the first part and the AAD (RFC 7516 §5.1 step 14): encrypted from the view
        const protLength = out.reset().b64urlOf(header).length
        const { ciphertext, tag } = provider.aesGcmEncrypt(cek, iv, plaintext, out.view(0, protLength))
        return out.ascii('..').b64url(iv).ascii('.').b64url(ciphertext).ascii('.').b64url(tag).latin1()
      },
    }
  }
  // valimail: the header bytes exactly as docs/contract.md "Wire format" (and the original dane_jwe_jws) give them.
  const prot = b64urlEncodeString(`{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","typ":"JWE","x5u":"${formatX5u(recipientName)}"}`)
  const aad = Buffer.from(prot, 'latin1')
  return {
    profile: profile.name,
    serialization,
    seal(reading, ctx) {
      const plaintext = inner(reading, ctx)
      const cek = provider.randomBytes(64)
      const ek = b64urlEncode(provider.rsaOaepEncrypt(recipient, cek))
      const iv = provider.randomBytes(16)
      const { ciphertext, tag } = provider.cbcHmacEncrypt(cek, iv, plaintext, aad)
      return assemble(prot, ek, iv, ciphertext, tag)
    },
  }
}
