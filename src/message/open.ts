/** Opening a sealed message, strictly and in an order that spends nothing on untrusted senders (docs/contract.md "Wire format"). */
import type { KeyObject } from 'node:crypto'
import { bytesEqual } from '../bytes.js'
import type { Clock } from '../clock.js'
import { concatKdfOtherInfo } from '../crypto/kdf.js'
import type { CryptoProvider, JwsAlg, PrivateKey, PublicKey } from '../crypto/provider.js'
import { DaneelError, isDaneelError } from '../errors.js'
import { b64urlDecode } from '../jose/b64url.js'
import { type JsonObject, parseJsonObject } from '../jose/json.js'
import { decryptJwe, parseJwe } from '../jose/jwe.js'
import { type ParsedJws, parseJws } from '../jose/jws.js'
import {
  checkJweHeader,
  checkJwsHeader,
  jwsAlgFits,
  type Profile,
  type ProfileName,
  profileForRecipient,
  type Serialization,
} from '../jose/profiles.js'
import { Lru } from '../lru.js'
import { checkClaims, readingOf } from './claims.js'
import { createDigestWindow, type DigestGuard, messageDigest, parseWorkshopX5u, unwrapWorkshop } from './legacy.js'
import type { ReplayGuard } from './replay.js'
import { isTrustedSender, normalizeName, parseX5u } from './x5u.js'

/** How the sender's key was authenticated: DNSSEC-validated TLSA, PKIX-CD, or a certificate the operator supplied. */
export type SenderAuth = 'dnssec' | 'pkix-cd' | 'offline'

export interface ResolvedSender {
  spki: Uint8Array
  /**
   * Every key the sender publishes (its TLSA RRset holds current + next during a rollover, in no set order): a
   * signature by any of them is the sender's. Defaults to `[spki]`.
   */
  spkis?: readonly Uint8Array[]
  auth: SenderAuth
}

export interface OpenerOptions {
  provider: CryptoProvider
  recipientName: string
  recipientKey: PrivateKey | KeyObject | Uint8Array
  /**
   * Further keys of ours to decrypt with, tried after `recipientKey` (a rollover: senders that looked us up before
   * or after the switch encrypt to the previous or the next key; see src/identity/rollover.ts `decryptionKeys`).
   */
  recipientKeys?: readonly (PrivateKey | KeyObject | Uint8Array)[]
  /** Finds the sender's key by name (DANE lookup, or a certificate given offline); throws a DaneelError. */
  resolveSender: SenderResolver
  /** TRUSTED_DOMAINS: a sender is trusted if its name is one of these or under one. Empty trusts nobody. */
  trustedDomains: readonly string[]
  /** MAX_MESSAGE_SIZE in bytes (default 16384). */
  maxMessageSize?: number
  clock: Clock
  /**
   * Oldest accepted `iat` for a message the replay guard cannot judge (a sender it holds no state for), default
   * DEFAULT_MAX_AGE_MS: a week-long outage plus a day of margin.
   */
  maxAgeMs?: number
  /**
   * Oldest accepted `iat` for a message whose sequence number the replay guard judges fresh (store and forward:
   * a reading held in a device outbox through an outage is as new as its number says), default
   * DEFAULT_RETENTION_MS; never below `maxAgeMs`.
   */
  retentionMs?: number
  /** How far in the future `iat` may be (default 60 s of clock skew). */
  maxSkewMs?: number
  /** Senders whose imported keys are kept (default 1024): a gateway sets it to the number of devices it hears. */
  keyCacheSize?: number
  replay: ReplayGuard
  /**
   * Only judge the replay guard (`judge`), never record: the caller records `seq` once the message's output is
   * durable (messaging/receiver.ts), so a message whose output failed is not taken for a replay when redelivered.
   */
  deferReplay?: boolean
  /**
   * LEGACY_DOMAINS: messages without claims (the original system's valimail payloads, the workshop's messages) are
   * accepted only from senders under one of these (still trusted, DANE-verified); empty or absent refuses them all.
   */
  legacyDomains?: readonly string[]
  /** Accept unbound messages from every trusted sender (`open --allow-unbound`; the same as legacyDomains = trustedDomains). */
  allowUnbound?: boolean
  /** Refuses byte-exact replays of unbound messages (default: an in-memory 24 h window, src/message/legacy.ts). */
  unboundReplay?: DigestGuard
}

export interface OpenedMessage {
  /** The sender's identity name (from the signed x5u, authenticated by its key). */
  from: string
  /** The verified claims set as received (aud, iat, seq and `r`; from devices deployed before `r`, the reading's members beside them). */
  claims?: JsonObject
  /** The reading: the `r` claim, or the non-protocol members of an older device's claims (claims.ts `readingOf`). */
  reading?: JsonObject
  /** Raw bytes: the `b` claim of a binary reading, or an unbound (valimail, workshop) payload. */
  payload?: Uint8Array
  /** Unbound messages only: hex SHA-256 of the message as received (the key of their replay guard). */
  digest?: string
  auth: SenderAuth
  profile: ProfileName
  serialization: Serialization
  /** The claims' `seq` (claims-bound messages), for a caller that records it (`deferReplay`). */
  seq?: number
}

export interface Opener {
  open(message: Uint8Array | string): Promise<OpenedMessage>
  /**
   * The same open, synchronous when the sender's key is cached (`resolveSender.peek`): the opened message, or a
   * promise of it only when the key must be looked up. A refusal on the synchronous path is thrown.
   */
  openNow?(message: Uint8Array | string): OpenedMessage | Promise<OpenedMessage>
}

/**
 * Finds the sender's key by name (DANE lookup, or a certificate given offline); throws a DaneelError. `peek`, when
 * present, answers synchronously from a cache of fresh answers (undefined: look up), so that a message from a
 * known sender is opened without a promise.
 */
export type SenderResolver = ((name: string) => Promise<ResolvedSender>) & {
  peek?: ((name: string) => ResolvedSender | undefined) | undefined
}

/** What an open knows before it needs the sender's key. */
interface Front {
  message: Uint8Array | string
  workshop: boolean
  serialization: Serialization
  profile: Profile
  jws: ParsedJws
  alg: JwsAlg
  from: string
}

/** 7 days (a week-long outage of broker or receiver) + 1 day of margin. */
export const DEFAULT_MAX_AGE_MS = 8 * 86_400_000
export const DEFAULT_RETENTION_MS = DEFAULT_MAX_AGE_MS

/** How many senders' imported keys are kept (importing costs more than the rest of an open). */
const KEY_CACHE_SIZE = 1024

/** A sender's imported keys; `source` is the array they were last confirmed against (held, never written to). */
interface SenderKeys {
  source: readonly Uint8Array[]
  spkis: readonly Uint8Array[]
  keys: PublicKey[]
}

const sameKeys = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((x, i) => bytesEqual(x, b[i] as Uint8Array))

function importRecipient(provider: CryptoProvider, key: PrivateKey | KeyObject | Uint8Array): PrivateKey {
  if (key instanceof Uint8Array) return provider.importPrivateKey(key)
  if ('publicKey' in key && 'kind' in key) return key as PrivateKey
  return provider.importPrivateKey(key as KeyObject)
}

export function createOpener(opts: OpenerOptions): Required<Opener> {
  const { provider, clock, replay } = opts
  const me = normalizeName(opts.recipientName)
  const key = importRecipient(provider, opts.recipientKey)
  const ourProfile = profileForRecipient(key.kind)
  const otherKeys = (opts.recipientKeys ?? []).map((k) => {
    const imported = importRecipient(provider, k)
    const profile = profileForRecipient(imported.kind)
    return { key: imported, profile, otherInfo: concatKdfOtherInfo(profile.enc, profile.cekLength * 8) }
  })
  const trusted = opts.trustedDomains.map((d) => d.toLowerCase().replace(/\.$/, ''))
  const maxSize = opts.maxMessageSize ?? 16384
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS
  const retentionMs = Math.max(maxAgeMs, opts.retentionMs ?? DEFAULT_RETENTION_MS)
  const deferReplay = opts.deferReplay === true
  if (deferReplay && (replay.judge === undefined || replay.record === undefined))
    throw new TypeError('deferReplay needs a replay guard with judge() and record()')
  const maxSkewMs = opts.maxSkewMs ?? 60_000
  const otherInfo = concatKdfOtherInfo(ourProfile.enc, ourProfile.cekLength * 8)
  const keys = new Lru<string, SenderKeys>(opts.keyCacheSize ?? KEY_CACHE_SIZE)
  const legacy = opts.allowUnbound === true ? trusted : (opts.legacyDomains ?? []).map((d) => d.toLowerCase().replace(/\.$/, ''))
  const unboundReplay = opts.unboundReplay ?? createDigestWindow()

  // Parsed x5u values: a receiver sees the same few senders again and again (a valid parse only, bounded). Not
  // sized with the key cache: a parse is cheap, and two strings per device add up at a gateway with a fleet.
  const names = new Lru<string, string>(KEY_CACHE_SIZE)
  function nameOf(x5u: string): string {
    const hit = names.peek(x5u)
    if (hit !== undefined) return hit
    const name = parseX5u(x5u)
    names.set(x5u, name)
    return name
  }

  // Decoded inner JWS headers: a sender signs every message under the same one (a bounded cache of valid parses).
  const jwsHeaders = new Lru<string, JsonObject>(KEY_CACHE_SIZE)
  // Trust verdicts by sender name (the name list is normalised once; a receiver sees the same few senders).
  const trustVerdicts = new Lru<string, boolean>(KEY_CACHE_SIZE)
  function trustedName(name: string): boolean {
    let v = trustVerdicts.peek(name)
    if (v === undefined) {
      v = isTrustedSender(name, trusted)
      trustVerdicts.set(name, v)
    }
    return v
  }

  /**
   * The sender's imported keys, in the order given; re-imported only when the published set changes. The same
   * array as last time (a cached directory answer) is taken as is, without comparing bytes.
   */
  function senderKeys(name: string, spkis: readonly Uint8Array[]): PublicKey[] {
    const hit = keys.peek(name)
    if (hit !== undefined && (hit.source === spkis || sameKeys(hit.spkis, spkis))) {
      hit.source = spkis
      return hit.keys
    }
    // The resolver's SPKIs themselves, not copies: the directory keeps them anyway (one copy less per sender at a
    // gateway); they are only read, to notice when the published set changed.
    keys.set(name, { source: spkis, spkis, keys: spkis.map((spki) => provider.importPublicKey(spki)) })
    return (keys.peek(name) as SenderKeys).keys
  }

  /** Decrypts with our key, then (rollover) with each further key; a wrong key fails like tampering. */
  function decryptAny(jwe: ReturnType<typeof parseJwe>) {
    let first: unknown
    try {
      const profile = checkJweHeader(jwe.header, ourProfile)
      return { profile, plaintext: decryptJwe(provider, key, jwe, profile, otherInfo) }
    } catch (err) {
      if (otherKeys.length === 0) throw err
      first = err
    }
    for (const k of otherKeys) {
      try {
        const profile = checkJweHeader(jwe.header, k.profile)
        return { profile, plaintext: decryptJwe(provider, k.key, jwe, profile, k.otherInfo) }
      } catch {}
    }
    throw first
  }

  /** Steps 1–4: everything before the sender's key is needed (size, parse, decrypt, the signed sender name, trust). */
  function front(message: Uint8Array | string): Front {
    // 1. Size first: nothing is parsed beyond MAX_MESSAGE_SIZE.
    const size = typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.length
    if (size > maxSize)
      throw new DaneelError('ERR_MESSAGE_TOO_LARGE', 'message too large', { cause: new Error(`${size} > ${maxSize} bytes`) })
    const text =
      typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1')
    // 2. Parse the JWE (unwrapped first if it is the workshop's base64) and hold its header to the allow-list;
    // only then touch our key.
    const workshop = unwrapWorkshop(text)
    const jwe = parseJwe(workshop ?? text)
    if (jwe.header.x5u !== undefined && nameOf(jwe.header.x5u as string) !== me) {
      throw new DaneelError('ERR_JWE_RECIPIENT', 'not encrypted for us', { cause: new Error(`JWE x5u ${String(jwe.header.x5u)}`) })
    }
    // 3. Decrypt (authenticates the header too: it is the AAD).
    const { profile, plaintext } = decryptAny(jwe)
    // 4. The inner JWS header names the sender; check that name against TRUSTED_DOMAINS before any lookup.
    const jws = parseJws(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).toString('latin1'), jwsHeaders)
    const alg = checkJwsHeader(jws.header, profile)
    const from = workshop === undefined ? nameOf(jws.header.x5u as string) : parseWorkshopX5u(jws.header.x5u as string)
    if (!trustedName(from))
      throw new DaneelError('ERR_SENDER_UNTRUSTED', 'sender not trusted', {
        cause: new Error(`${from} is not under ${trusted.join(', ') || '(no trusted domains)'}`),
      })
    return { message, workshop: workshop !== undefined, serialization: jwe.serialization, profile, jws, alg, from }
  }

  /** Steps 5–6: verify with the sender's key, then the claims (or an unbound message's rules). */
  function back(f: Front, resolved: ResolvedSender): OpenedMessage {
    const { jws, alg, from, profile } = f
    // 5. The algorithm must fit the sender's key (no confusion), then verify.
    const candidates = senderKeys(from, resolved.spkis ?? [resolved.spki])
    let fitting = 0
    let verified = false
    for (const senderPub of candidates) {
      if (!jwsAlgFits(alg, senderPub.kind)) continue
      fitting++
      if (provider.verify(alg, senderPub, jws.signingInput, jws.signature)) {
        verified = true
        break
      }
    }
    if (fitting === 0)
      throw new DaneelError('ERR_JOSE_ALG', 'JWS algorithm does not fit the sender key', {
        cause: new Error(`${alg} with ${candidates.map((k) => k.kind).join('/')} key(s)`),
      })
    if (!verified) throw new DaneelError('ERR_JWS_SIGNATURE', 'bad signature')
    // 6. Claims: issuer, audience, time, sequence.
    const profileName: ProfileName = f.workshop ? 'workshop' : profile.name
    const payloadText = jws.payload.toString('utf8')
    let claims: JsonObject | undefined
    try {
      claims = parseJsonObject(payloadText, 'claims', 'ERR_JWT_CLAIMS')
    } catch (err) {
      if (profile.name === 'compact') throw err
    }
    // An unbound message: the workshop's always, a valimail one when its payload is not a claims set.
    if (f.workshop || claims === undefined || (profile.name === 'valimail' && claims.aud === undefined && claims.seq === undefined)) {
      if (!isTrustedSender(from, legacy))
        throw new DaneelError('ERR_UNBOUND_REFUSED', 'message without claims refused', {
          cause: new Error(`${from} is not under LEGACY_DOMAINS (${legacy.join(', ') || 'none'})`),
        })
      const digest = messageDigest(f.message)
      if (!unboundReplay.check(digest, clock.now()))
        throw new DaneelError('ERR_REPLAY', 'replayed message', { cause: new Error(`${from} unbound message ${digest}`) })
      return {
        from,
        auth: resolved.auth,
        profile: profileName,
        serialization: f.serialization,
        payload: new Uint8Array(jws.payload),
        digest,
      }
    }
    if (!clock.synced()) throw new DaneelError('ERR_CLOCK_UNSYNCED', 'clock not synced: message time indeterminate')
    // A number the guard judges fresh is new however late it comes (an outbox draining after an outage): the
    // retention bounds it; only a message the guard cannot judge is held to maxAgeMs.
    const verdict =
      replay.judge !== undefined && typeof claims.seq === 'number' && Number.isSafeInteger(claims.seq)
        ? replay.judge(from, claims.seq)
        : 'unknown'
    const ageBound = verdict === 'fresh' ? retentionMs : maxAgeMs
    let seq: number
    try {
      seq = checkClaims(claims, { sender: from, recipient: me, nowMs: clock.now(), maxAgeMs: ageBound, maxSkewMs })
    } catch (err) {
      // too old or dated ahead by a clock that is plausible but not confirmed: our clock is in doubt, not the message
      if (clock.certain?.() === false && (isDaneelError(err, 'ERR_JWT_FUTURE') || isDaneelError(err, 'ERR_JWT_EXPIRED')))
        throw new DaneelError('ERR_CLOCK_UNSYNCED', 'clock not confirmed: message time indeterminate', { cause: err })
      throw err
    }
    let payload: Uint8Array | undefined
    if (claims.b !== undefined) {
      if (typeof claims.b !== 'string')
        throw new DaneelError('ERR_JWT_CLAIMS', 'malformed claims', { cause: new Error('b is not a string') })
      payload = new Uint8Array(b64urlDecode(claims.b, 'b claim'))
    }
    const reading = readingOf(claims)
    if (deferReplay ? verdict === 'seen' : !replay.check(from, seq))
      throw new DaneelError('ERR_REPLAY', 'replayed message', { cause: new Error(`${from} seq ${seq}`) })
    const out: OpenedMessage = { from, claims, auth: resolved.auth, profile: profileName, serialization: f.serialization, seq }
    if (reading !== undefined) out.reading = reading
    if (payload !== undefined) out.payload = payload
    return out
  }

  const peek = opts.resolveSender.peek
  const lookup = (f: Front): Promise<OpenedMessage> => opts.resolveSender(f.from).then((resolved) => back(f, resolved))
  function openNow(message: Uint8Array | string): OpenedMessage | Promise<OpenedMessage> {
    const f = front(message)
    // 5. The sender's key by that name: at once when cached and fresh, else looked up.
    const cached = peek?.(f.from)
    return cached === undefined ? lookup(f) : back(f, cached)
  }

  return {
    openNow,
    open(message) {
      try {
        return Promise.resolve(openNow(message))
      } catch (err) {
        return Promise.reject(err)
      }
    },
  }
}
