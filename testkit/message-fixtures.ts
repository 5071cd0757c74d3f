/** Test identities (keys generated per run, never committed) and opener/sealer builders for the message tests. */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { fixedClock } from '../src/clock.js'
import type { CryptoProvider } from '../src/crypto/provider.js'
import { createOpener, type Opener, type OpenerOptions } from '../src/message/open.js'
import { createReplayWindow } from '../src/message/replay.js'
import { createSealer, type Sealer, type SealerOptions } from '../src/message/seal.js'

export type KeyType = 'p256' | 'ed25519' | 'rsa'
export interface Identity {
  name: string
  type: KeyType
  privateKey: KeyObject
  publicKey: KeyObject
  spki: Uint8Array
}

const cache = new Map<string, Identity>()

/** A fresh identity per name and type (cached within one test process: RSA keygen is slow). */
export function identity(name: string, type: KeyType): Identity {
  const id = `${name}/${type}`
  const hit = cache.get(id)
  if (hit) return hit
  const kp =
    type === 'p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const out = {
    name,
    type,
    privateKey: kp.privateKey,
    publicKey: kp.publicKey,
    spki: new Uint8Array(kp.publicKey.export({ format: 'der', type: 'spki' })),
  }
  cache.set(id, out)
  return out
}

/** The X25519 private key of an Ed25519 identity, derived with noble (independently of our node path), for jose. */
export function x25519PrivateOf(id: Identity): KeyObject {
  const seed = Buffer.from(id.privateKey.export({ format: 'jwk' }).d as string, 'base64url')
  const x = ed25519.utils.toMontgomerySecret(seed)
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), x]), format: 'der', type: 'pkcs8' })
}

export const SENDER = 'c90a0d441683.airquality._device.example.com'
export const RECIPIENT = 'gateway01.airquality._device.example.com'
export const NOW = Date.UTC(2026, 10, 25, 22, 0, 0)

export function sealerFor(provider: CryptoProvider, from: Identity, to: Identity, extra: Partial<SealerOptions> = {}): Sealer {
  return createSealer({
    provider,
    senderName: from.name,
    senderKey: from.privateKey,
    recipientName: to.name,
    recipientSpki: to.spki,
    ...extra,
  })
}

/** An opener for `to` that trusts `example.com` and resolves exactly the identities given. */
export function openerFor(provider: CryptoProvider, to: Identity, senders: Identity[], extra: Partial<OpenerOptions> = {}): Opener {
  const table = new Map(senders.map((s) => [s.name, s.spki]))
  return createOpener({
    provider,
    recipientName: to.name,
    recipientKey: to.privateKey,
    trustedDomains: ['example.com'],
    clock: fixedClock(NOW),
    replay: createReplayWindow(),
    resolveSender: async (name) => {
      const spki = table.get(name)
      if (spki === undefined) throw new Error(`test resolver: unknown sender ${name}`)
      return { spki, auth: 'dnssec' }
    },
    ...extra,
  })
}

export const READING = { pm25: 12.3, pm10: 20.1, co2: 612, t: 21.4, rh: 40.2, ts: 1764100000, seq: 42 }
