/** Trust-anchor policy on the recorded lab: digest downgrade (RFC 4509 §3), unsupported algorithms (RFC 4035 §5.2), DNSKEY anchors. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseTrustAnchors } from '../../../../src/dns/dnssec/anchors.js'
import { dsDigest, keyTag } from '../../../../src/dns/dnssec/keys.js'
import { loadLabFixture, replayResolver, replayTransport } from '../../../../testkit/dns-replay.js'

const fx = loadLabFixture()
const rootKey = fx.trustAnchors.split('\n').find((l) => /\sDNSKEY\s/.test(l)) as string
const rootDs = fx.trustAnchors.split('\n').find((l) => /\sDS\s/.test(l)) as string
const keyRdata = (() => {
  const f = rootKey.trim().split(/\s+/)
  const at = f.indexOf('DNSKEY')
  const [flags, proto, alg] = f.slice(at + 1, at + 4).map(Number) as [number, number, number]
  return new Uint8Array(
    Buffer.concat([Buffer.from([flags >> 8, flags & 255, proto, alg]), Buffer.from(f.slice(at + 4).join(''), 'base64')]),
  )
})()
const tag = keyTag(keyRdata)
const sha1 = Buffer.from(dsDigest('.', keyRdata, 1) as Uint8Array).toString('hex')

async function statusWith(anchorText: string): Promise<string> {
  const r = replayResolver(fx, replayTransport(fx.exchanges), { trustAnchors: parseTrustAnchors(anchorText), cache: null })
  const a = await r.query('dev1._device.example.test', 52)
  return a.status
}

describe('trust anchors', () => {
  it('the lab root as a DS, or as a DNSKEY alone: secure', async () => {
    assert.equal(await statusWith(rootDs), 'secure')
    assert.equal(await statusWith(rootKey), 'secure')
  })

  it('a SHA-1 DS alone is still validated (RFC 8624); next to a SHA-256 DS it is ignored (RFC 4509 §3)', async () => {
    assert.equal(await statusWith(`. IN DS ${tag} 8 1 ${sha1}`), 'secure')
    const wrong256 = `. IN DS ${tag} 8 2 ${'00'.repeat(32)}`
    assert.equal(await statusWith(`${wrong256}\n. IN DS ${tag} 8 1 ${sha1}`), 'bogus')
  })

  it('an anchor whose algorithms are all unsupported makes the tree insecure, not bogus (RFC 4035 §5.2)', async () => {
    assert.equal(await statusWith(`. IN DS ${tag} 253 2 ${'00'.repeat(32)}`), 'insecure')
  })

  it('an anchor for another tree: nothing here is covered, indeterminate', async () => {
    assert.equal(await statusWith(`other. IN DS ${tag} 8 1 ${sha1}`), 'indeterminate')
  })
})
