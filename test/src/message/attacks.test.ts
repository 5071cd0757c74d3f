/** The attack suite: every rejection built as a validly encrypted message to the receiver, each with its own error code. */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { fixedClock } from '../../../src/clock.js'
import { getProvider } from '../../../src/crypto/get-provider.js'
import type { ErrorCode } from '../../../src/errors.js'
import { certificateResolver } from '../../../src/message/offline.js'
import { createReplayWindow } from '../../../src/message/replay.js'
import { buildSelfSignedCertificate } from '../../../src/x509/build.js'
import { identity, NOW, openerFor, READING, RECIPIENT, SENDER, sealerFor } from '../../../testkit/message-fixtures.js'
import { encryptTo, signJws } from './attacker.js'

const X5U = `dns://${SENDER}?type=TLSA`
const from = identity(SENDER, 'p256')
const to = identity(RECIPIENT, 'p256')
const claims = (extra: Record<string, unknown> = {}) => ({ ...READING, aud: RECIPIENT, iat: NOW / 1000, seq: 1, ...extra })
const jws = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJws({ alg: 'ES256', x5u: X5U, ...header }, claims(extra), from.privateKey)
const seal = (plaintext: string, header: Record<string, unknown> = {}) => encryptTo(to.publicKey, { header, plaintext })

for (const provider of [getProvider('node'), getProvider('noble')]) {
  describe(`attacks rejected (${provider.name} provider)`, () => {
    let lookups = 0
    const opener = (extra = {}) => {
      const o = openerFor(provider, to, [from], extra)
      return {
        open: async (m: string) => o.open(m),
      }
    }
    const rejects = async (message: string, code: ErrorCode, extra = {}) => {
      await assert.rejects(opener(extra).open(message), (err: unknown) => {
        assert.equal((err as { code?: string }).code, code, String(err))
        return true
      })
    }
    it('a control: the attacker kit builds messages we accept', async () => {
      const m = await opener().open(seal(jws()))
      assert.equal(m.from, SENDER)
    })
    it('wrong aud', () => rejects(seal(jws({ aud: 'someone.else._device.example.com' })), 'ERR_JWT_AUDIENCE'))
    it('replay of the same (sender, seq)', async () => {
      const o = opener()
      const m = seal(jws())
      await o.open(m)
      await assert.rejects(o.open(m), { code: 'ERR_REPLAY' })
      await assert.rejects(o.open(seal(jws())), { code: 'ERR_REPLAY' }) // re-encrypted, same seq
    })
    it('untrusted domain, rejected before any lookup', async () => {
      const evil = 'x._device.evil.example.org'
      const o = openerFor(provider, to, [from], {
        resolveSender: async () => {
          lookups++
          throw new Error('must not be called')
        },
      })
      await assert.rejects(o.open(seal(signJws({ alg: 'ES256', x5u: `dns://${evil}?type=TLSA` }, claims(), from.privateKey))), {
        code: 'ERR_SENDER_UNTRUSTED',
      })
      assert.equal(lookups, 0)
    })
    it('iss disagrees with the signed x5u', () => rejects(seal(jws({ iss: 'other._device.example.com' })), 'ERR_JWT_ISSUER'))
    it('alg none, unsigned', () => rejects(seal(signJws({ alg: 'none', x5u: X5U }, claims(), null)), 'ERR_JOSE_ALG'))
    it('alg confusion: HS256 keyed with the sender public key', () =>
      rejects(seal(signJws({ alg: 'HS256', x5u: X5U }, claims(), { hmac: from.spki })), 'ERR_JOSE_ALG'))
    it('alg confusion: EdDSA header on a P-256 sender key', () => rejects(seal(jws({}, { alg: 'EdDSA' })), 'ERR_JOSE_ALG'))
    it('alg confusion: RS256 inside the compact profile', () => rejects(seal(jws({}, { alg: 'RS256' })), 'ERR_JOSE_ALG'))
    it('JWE alg dir / PBES2 / RSA-OAEP-256 to our P-256 key', async () => {
      await rejects(seal(jws(), { alg: 'dir' }), 'ERR_JOSE_ALG')
      await rejects(seal(jws(), { alg: 'PBES2-HS256+A128KW' }), 'ERR_JOSE_ALG')
      await rejects(seal(jws(), { alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }), 'ERR_JOSE_ALG')
      await rejects(seal(jws(), { enc: 'A128GCM' }), 'ERR_JOSE_ALG')
    })
    it('zip', () => rejects(seal(jws(), { zip: 'DEF' }), 'ERR_JOSE_ZIP'))
    it('crit, outer and inner', async () => {
      await rejects(seal(jws(), { crit: ['exp'], exp: 1 }), 'ERR_JOSE_CRIT')
      await rejects(seal(jws({}, { crit: ['b64'], b64: false })), 'ERR_JOSE_CRIT')
    })
    it('duplicate header members and duplicate claims', async () => {
      await rejects(
        encryptTo(to.publicKey, { header: {}, plaintext: jws(), headerText: (h) => JSON.stringify(h).replace('{', '{"enc":"A128GCM",') }),
        'ERR_JOSE_HEADER',
      )
      await rejects(seal(signJws(`{"alg":"ES256","x5u":"${X5U}","alg":"none"}`, claims(), from.privateKey)), 'ERR_JOSE_HEADER')
      await rejects(
        seal(signJws({ alg: 'ES256', x5u: X5U }, JSON.stringify(claims()).replace('{', `{"aud":"${RECIPIENT}",`), from.privateKey)),
        'ERR_JOSE_HEADER',
      )
    })
    it('unknown header member (jku would point key discovery elsewhere)', () =>
      rejects(seal(jws(), { jku: 'https://evil.example/keys' }), 'ERR_JOSE_HEADER'))
    it('oversized, before any parsing', () => rejects(seal(jws({ pad: 'x'.repeat(20000) })), 'ERR_MESSAGE_TOO_LARGE'))
    it('expired and future-dated', async () => {
      // (the default bound is now a week-long outage + a day, DEFAULT_MAX_AGE_MS; it was 10 minutes)
      await rejects(seal(jws({ iat: NOW / 1000 - 9 * 86400 })), 'ERR_JWT_EXPIRED')
      await rejects(seal(jws({ iat: NOW / 1000 - 3600 })), 'ERR_JWT_EXPIRED', { maxAgeMs: 600_000 })
      await rejects(seal(jws({ iat: NOW / 1000 + 3600 })), 'ERR_JWT_FUTURE')
      await rejects(seal(jws({ exp: NOW / 1000 - 120 })), 'ERR_JWT_EXPIRED')
    })
    it('a clock that has not synced: time indeterminate', () =>
      rejects(seal(jws()), 'ERR_CLOCK_UNSYNCED', { clock: fixedClock(NOW, false) }))
    it('store and forward: a number the replay guard judges new is accepted however late (up to the retention); an unknown sender is held to maxAgeMs', async () => {
      const replay = createReplayWindow()
      const o = openerFor(provider, to, [from], { replay, maxAgeMs: 15_000 })
      const late = (seq: number, ageS: number) => seal(jws({ seq, iat: NOW / 1000 - ageS }))
      // unknown to the guard: the 15 s bound applies
      await assert.rejects(o.open(late(5, 1800)), { code: 'ERR_JWT_EXPIRED' })
      assert.equal((await o.open(late(6, 1))).seq, 6) // now the guard knows the sender
      assert.equal((await o.open(late(7, 1800))).seq, 7, 'a 30-minute-old reading with a new number')
      assert.equal((await o.open(late(3, 3 * 86400))).seq, 3, 'in the window below the high mark, unseen')
      await assert.rejects(o.open(late(8, 9 * 86400)), { code: 'ERR_JWT_EXPIRED' }, 'beyond the retention')
      // a replay is refused: by the time bound first when it is old (time is checked before the guard), else as a replay
      await assert.rejects(o.open(late(7, 1800)), { code: 'ERR_JWT_EXPIRED' })
      await assert.rejects(o.open(late(6, 1)), { code: 'ERR_REPLAY' })
      await assert.rejects(o.open(seal(jws({ seq: 9, iat: NOW / 1000 + 3600 }))), { code: 'ERR_JWT_FUTURE' }, 'dated ahead still fails')
    })
    it('deferReplay judges without recording: the caller records once the output is durable', async () => {
      const replay = createReplayWindow()
      const o = openerFor(provider, to, [from], { replay, deferReplay: true })
      const m = seal(jws({ seq: 11 }))
      assert.equal((await o.open(m)).seq, 11)
      assert.equal((await o.open(m)).seq, 11, 'not recorded yet: a redelivery opens again')
      replay.record(SENDER, 11)
      await assert.rejects(o.open(m), { code: 'ERR_REPLAY' })
    })
    it('dated ahead or too old by a clock that is plausible but not confirmed: indeterminate (retried), not a verdict', async () => {
      await rejects(seal(jws({ iat: NOW / 1000 + 7200 })), 'ERR_CLOCK_UNSYNCED', { clock: fixedClock(NOW, true, false) })
      await rejects(seal(jws({ iat: NOW / 1000 - 9 * 86400 })), 'ERR_CLOCK_UNSYNCED', { clock: fixedClock(NOW, true, false) })
    })
    it('missing or ill-typed claims', async () => {
      await rejects(seal(signJws({ alg: 'ES256', x5u: X5U }, { aud: RECIPIENT, iat: NOW / 1000 }, from.privateKey)), 'ERR_JWT_CLAIMS')
      await rejects(seal(jws({ seq: '1' })), 'ERR_JWT_CLAIMS')
      await rejects(seal(jws({ iat: 'now' })), 'ERR_JWT_CLAIMS')
      await rejects(seal(signJws({ alg: 'ES256', x5u: X5U }, '[1,2]', from.privateKey)), 'ERR_JWT_CLAIMS')
    })
    it('tampered ciphertext, tag and protected header', async () => {
      const good = sealerFor(provider, from, to).seal(READING, { now: NOW, seq: 42 })
      const parts = good.split('.') as [string, string, string, string, string]
      const flipChar = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
      await rejects([parts[0], parts[1], parts[2], flipChar(parts[3], 10), parts[4]].join('.'), 'ERR_JWE_DECRYPT')
      await rejects([parts[0], parts[1], parts[2], parts[3], flipChar(parts[4], 3)].join('.'), 'ERR_JWE_DECRYPT')
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString())
      const reHeader = Buffer.from(JSON.stringify({ ...header, kid: 'x' })).toString('base64url')
      await rejects([reHeader, ...parts.slice(1)].join('.'), 'ERR_JWE_DECRYPT')
    })
    it('a signature swapped in from another message, and a signature by another key', async () => {
      const a = jws({ seq: 1 }).split('.')
      const b = jws({ seq: 2 }).split('.')
      await rejects(seal(`${a[0]}.${a[1]}.${b[2]}`), 'ERR_JWS_SIGNATURE')
      const impostor = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      await rejects(seal(signJws({ alg: 'ES256', x5u: X5U }, claims(), impostor)), 'ERR_JWS_SIGNATURE')
    })
    it('non-canonical base64url: padding, whitespace, non-zero trailing bits', async () => {
      const good = sealerFor(provider, from, to).seal(READING, { now: NOW, seq: 42 })
      const parts = good.split('.') as [string, string, string, string, string]
      await rejects([parts[0], parts[1], parts[2], parts[3], `${parts[4]}==`].join('.'), 'ERR_B64URL_INVALID')
      await rejects([parts[0], parts[1], ` ${parts[2]}`, parts[3], parts[4]].join('.'), 'ERR_B64URL_INVALID')
      // The 16-byte tag is 22 characters; the last one carries 4 spare bits. Setting one gives the same bytes.
      const last = parts[4].at(-1) as string
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const sibling = alphabet[alphabet.indexOf(last) + 1] as string
      await rejects([parts[0], parts[1], parts[2], parts[3], parts[4].slice(0, -1) + sibling].join('.'), 'ERR_B64URL_INVALID')
    })
    it('epk off the curve, or carrying d', async () => {
      const offCurve = {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.alloc(32, 1).toString('base64url'),
        y: Buffer.alloc(32, 2).toString('base64url'),
      }
      await rejects(encryptTo(to.publicKey, { header: {}, plaintext: jws(), epk: offCurve }), 'ERR_JWE_EPK')
      const good = JSON.parse(Buffer.from(seal(jws()).split('.')[0] as string, 'base64url').toString()).epk
      await rejects(encryptTo(to.publicKey, { header: {}, plaintext: jws(), epk: { ...good, d: 'AAAA' } }), 'ERR_JWE_EPK')
      await rejects(encryptTo(to.publicKey, { header: {}, plaintext: jws(), epk: { kty: 'OKP', crv: 'X25519', x: good.x } }), 'ERR_JWE_EPK')
    })
    it('an X25519 epk of low order (Ed25519 recipient)', async () => {
      const edTo = identity(RECIPIENT, 'ed25519')
      const o = openerFor(provider, edTo, [from])
      // RFC 7748 §6.1: u = 0 and u = 1 are of low order; X25519 with them gives all zeros.
      const parts = sealerFor(provider, identity(SENDER, 'ed25519'), edTo).seal(READING, { now: NOW, seq: 42 }).split('.')
      const header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString())
      for (const u of [0, 1]) {
        const low = Buffer.alloc(32)
        low[0] = u
        const h = Buffer.from(JSON.stringify({ ...header, epk: { kty: 'OKP', crv: 'X25519', x: low.toString('base64url') } })).toString(
          'base64url',
        )
        await assert.rejects(o.open([h, ...parts.slice(1)].join('.')), { code: 'ERR_JWE_EPK' })
      }
    })
    it('wrong IV or tag length', async () => {
      await rejects(encryptTo(to.publicKey, { header: {}, plaintext: jws(), ivLength: 16 }), 'ERR_JWE_INVALID')
      await rejects(encryptTo(to.publicKey, { header: {}, plaintext: jws(), tagLength: 12 }), 'ERR_JWE_INVALID')
    })
    it('a JWE x5u naming another recipient', () =>
      rejects(seal(jws(), { x5u: 'dns://other._device.example.com?type=TLSA' }), 'ERR_JWE_RECIPIENT'))
    it('a malformed x5u', () => rejects(seal(jws({}, { x5u: 'https://example.com/cert.pem' })), 'ERR_X5U_INVALID'))
    it('a sender whose certificate names someone else', async () => {
      const otherCert = buildSelfSignedCertificate({ name: 'other._device.example.com', key: from.privateKey, now: NOW })
      const r = certificateResolver([otherCert])
      await rejects(seal(jws()), 'ERR_JWS_SENDER', { resolveSender: r.resolve })
      const rightCert = buildSelfSignedCertificate({ name: SENDER, key: from.privateKey, now: NOW })
      const m = await opener({ resolveSender: certificateResolver([rightCert]).resolve }).open(seal(jws()))
      assert.equal(m.auth, 'offline')
    })
    it('valimail: a tampered RSA-OAEP encrypted key fails like a tampered tag (RFC 7516 §11.5)', async () => {
      const rFrom = identity(SENDER, 'rsa')
      const rTo = identity(RECIPIENT, 'rsa')
      const m = JSON.parse(sealerFor(provider, rFrom, rTo).seal(READING, { now: NOW, seq: 42 }))
      const ek = Buffer.from(m.encrypted_key, 'base64url')
      ek[10] = (ek[10] as number) ^ 1
      const o = openerFor(provider, rTo, [rFrom])
      await assert.rejects(o.open(JSON.stringify({ ...m, encrypted_key: ek.toString('base64url') })), { code: 'ERR_JWE_DECRYPT' })
    })
    it('claims nested deeper than 32 levels', () =>
      rejects(
        seal(
          signJws(
            { alg: 'ES256', x5u: X5U },
            JSON.stringify(claims()).replace('}', `,"deep":${'['.repeat(40)}${']'.repeat(40)}}`),
            from.privateKey,
          ),
        ),
        'ERR_JWT_CLAIMS',
      ))
    it('garbage: not JOSE at all', async () => {
      await rejects('hello', 'ERR_JWE_INVALID')
      await rejects('{"protected":1}', 'ERR_JWE_INVALID')
      await rejects('{"protected":"e30","iv":"","ciphertext":"","tag":"","header":{}}', 'ERR_JOSE_HEADER')
      await rejects('a.b.c.d.e.f', 'ERR_JWE_INVALID')
    })
  })
}
