/** The wire profiles of docs/contract.md "Wire format" ("compact", "valimail", and "workshop", valimail's cipher suite in the DEF CON 29 wrapping): algorithm allow-lists and header rules, per RFC 7515/7516/7518. */
import type { JwsAlg, KeyKind } from '../crypto/provider.js'
import { DaneelError } from '../errors.js'
import type { JsonObject } from './json.js'

export type ProfileName = 'compact' | 'valimail' | 'workshop'
export type Serialization = 'compact' | 'json'

export interface Profile {
  readonly name: ProfileName
  /** Key management: ECDH-ES direct agreement (RFC 7518 §4.6) or RSA-OAEP-256 key transport (§4.3). */
  readonly jweAlg: 'ECDH-ES' | 'RSA-OAEP-256'
  /** Content encryption: A256GCM (§5.3) or A256CBC-HS512 (§5.2.5). */
  readonly enc: 'A256GCM' | 'A256CBC-HS512'
  readonly ivLength: number
  readonly tagLength: number
  readonly cekLength: number
  /** Inner JWS algorithms a receiver accepts under this profile. */
  readonly jwsAlgs: readonly JwsAlg[]
  /** Default serialization of what we seal. */
  readonly serialization: Serialization
}

/** The original system's algorithms (RSA), shared by the workshop form. */
const VALIMAIL: Profile = {
  name: 'valimail',
  jweAlg: 'RSA-OAEP-256',
  enc: 'A256CBC-HS512',
  ivLength: 16,
  tagLength: 32,
  cekLength: 64,
  jwsAlgs: ['RS256', 'PS256'],
  serialization: 'json',
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  compact: {
    name: 'compact',
    jweAlg: 'ECDH-ES',
    enc: 'A256GCM',
    ivLength: 12,
    tagLength: 16,
    cekLength: 32,
    jwsAlgs: ['ES256', 'EdDSA'],
    serialization: 'compact',
  },
  valimail: VALIMAIL,
  // The DEF CON 29 workshop: valimail's algorithms, no recipient x5u, the sender x5u a bare name, the JSON JWE
  // standard-base64 wrapped (src/message/legacy.ts). A receiver reads it with the valimail checks.
  workshop: { ...VALIMAIL, name: 'workshop' },
}

/** The JWS algorithm we sign with for a key kind; RSA signs RS256 (PS256 is accepted, never produced). */
export function jwsAlgFor(kind: KeyKind): JwsAlg {
  if (kind === 'p256') return 'ES256'
  if (kind === 'ed25519') return 'EdDSA'
  if (kind === 'rsa') return 'RS256'
  throw new DaneelError('ERR_KEY_UNSUPPORTED', `a ${kind} key cannot sign`)
}

/** The key kinds a JWS algorithm may be verified with: the check that stops algorithm confusion. */
export function jwsAlgFits(alg: JwsAlg, kind: KeyKind): boolean {
  return (
    (alg === 'ES256' && kind === 'p256') ||
    (alg === 'EdDSA' && kind === 'ed25519') ||
    ((alg === 'RS256' || alg === 'PS256') && kind === 'rsa')
  )
}

/** The profile our key implies: an RSA recipient reads "valimail", P-256/Ed25519/X25519 read "compact". */
export function profileForRecipient(kind: KeyKind): Profile {
  return kind === 'rsa' ? PROFILES.valimail : PROFILES.compact
}

// Header members each part may carry. Everything else is rejected: a strict opener reads only what it
// understands, so no member can change the meaning of a message behind our back (RFC 7515 §4 leaves
// unknown members to the application; `crit` and `zip` get their own codes below).
const JWE_MEMBERS: Readonly<Record<ProfileName, ReadonlySet<string>>> = {
  compact: new Set(['alg', 'enc', 'cty', 'typ', 'epk', 'x5u', 'apu', 'apv', 'kid']),
  valimail: new Set(['alg', 'enc', 'cty', 'typ', 'x5u', 'kid']),
  workshop: new Set(['alg', 'enc', 'cty', 'typ', 'x5u', 'kid']),
}
const JWS_MEMBERS: ReadonlySet<string> = new Set(['alg', 'x5u', 'typ', 'cty', 'kid'])
const EPK_MEMBERS: ReadonlySet<string> = new Set(['kty', 'crv', 'x', 'y'])

function checkCommon(header: JsonObject, what: string): void {
  if (Object.hasOwn(header, 'zip')) throw new DaneelError('ERR_JOSE_ZIP', `${what}: compression is not accepted`)
  if (Object.hasOwn(header, 'crit')) throw new DaneelError('ERR_JOSE_CRIT', `${what}: unsupported critical extension`)
}

function checkMembers(header: JsonObject, allowed: ReadonlySet<string>, what: string): void {
  for (const k in header) {
    if (!allowed.has(k))
      throw new DaneelError('ERR_JOSE_HEADER', `${what}: unexpected header member`, { cause: new Error(`member '${k}'`) })
    const v = header[k]
    if (k !== 'epk' && typeof v !== 'string')
      throw new DaneelError('ERR_JOSE_HEADER', `${what}: ill-typed header member`, { cause: new Error(`member '${k}'`) })
  }
}

/** Validates a JWE protected header; returns the profile its `alg` and `enc` select. */
export function checkJweHeader(header: JsonObject, expected?: Profile): Profile {
  checkCommon(header, 'JWE')
  const alg = header.alg
  const profile = alg === 'ECDH-ES' ? PROFILES.compact : alg === 'RSA-OAEP-256' ? PROFILES.valimail : undefined
  if (profile === undefined)
    throw new DaneelError('ERR_JOSE_ALG', 'JWE algorithm not allowed', { cause: new Error(`alg ${JSON.stringify(alg)}`) })
  if (expected !== undefined && profile !== expected)
    throw new DaneelError('ERR_JOSE_ALG', 'JWE algorithm does not fit our key', {
      cause: new Error(`${profile.jweAlg} where we read ${expected.jweAlg}`),
    })
  if (header.enc !== profile.enc)
    throw new DaneelError('ERR_JOSE_ALG', 'JWE encryption not allowed', {
      cause: new Error(`enc ${JSON.stringify(header.enc)} with ${profile.jweAlg}`),
    })
  checkMembers(header, JWE_MEMBERS[profile.name], 'JWE')
  if (header.cty !== undefined && header.cty !== 'JWT' && profile.name === 'compact')
    throw new DaneelError('ERR_JOSE_HEADER', 'JWE content type must be JWT')
  if (profile.name === 'compact') {
    const epk = header.epk
    if (epk === null || typeof epk !== 'object' || Array.isArray(epk)) throw new DaneelError('ERR_JWE_EPK', 'JWE lacks an ephemeral key')
    for (const k in epk)
      if (!EPK_MEMBERS.has(k)) throw new DaneelError('ERR_JWE_EPK', 'invalid ephemeral key', { cause: new Error(`epk member '${k}'`) })
  }
  return profile
}

/** Validates an inner JWS protected header against the profile; returns its algorithm. */
export function checkJwsHeader(header: JsonObject, profile: Profile): JwsAlg {
  checkCommon(header, 'JWS')
  const alg = header.alg
  if (typeof alg !== 'string' || !(profile.jwsAlgs as readonly string[]).includes(alg)) {
    throw new DaneelError('ERR_JOSE_ALG', 'JWS algorithm not allowed', {
      cause: new Error(`alg ${JSON.stringify(alg)} under profile ${profile.name}`),
    })
  }
  checkMembers(header, JWS_MEMBERS, 'JWS')
  if (typeof header.x5u !== 'string') throw new DaneelError('ERR_JWS_INVALID', 'JWS does not name its sender (x5u)')
  return alg as JwsAlg
}
