/** Published vectors: RFC 4034 §6.1 canonical order, RFC 5155 App. A NSEC3 hashes, RFC 4034 §5.4 DS; plus RRSIG serial arithmetic. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { signedOwner } from '../../../../src/dns/dnssec/canonical.js'
import { dsDigest, keyTag } from '../../../../src/dns/dnssec/keys.js'
import { nsec3Hash } from '../../../../src/dns/dnssec/nsec3.js'
import { serialLte } from '../../../../src/dns/dnssec/verify.js'
import { canonicalCompare, toName } from '../../../../src/dns/name.js'
import { b32hex } from '../../../../src/dns/rdata.js'

describe('DNSSEC vectors', () => {
  it('RFC 4034 §6.1: names in canonical order', () => {
    const ordered = [
      'example',
      'a.example',
      'yljkjljk.a.example',
      'Z.a.example',
      'zABC.a.EXAMPLE',
      'z.example',
      '\\001.z.example',
      '*.z.example',
      '\\200.z.example',
    ].map(toName)
    const shuffled = [...ordered].reverse()
    shuffled.sort(canonicalCompare)
    assert.deepEqual(shuffled, ordered)
  })

  it('RFC 5155 Appendix A: NSEC3 hashes (salt aabbccdd, 12 iterations)', () => {
    const salt = Buffer.from('aabbccdd', 'hex')
    const vectors: Array<[string, string]> = [
      ['example', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
      ['a.example', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
      ['ai.example', 'gjeqe526plbf1g8mklp59enfd789njgi'],
      ['ns1.example', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
      ['w.example', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
      ['*.w.example', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
      ['xx.example', 't644ebqk9bibcna874givr6joj62mlhv'],
    ]
    for (const [name, hash] of vectors) assert.equal(b32hex(nsec3Hash(toName(name), salt, 12)), hash, name)
  })

  it('RFC 4034 §5.4: DS for the dskey.example.com DNSKEY 256 3 5 (key tag 60485, SHA-1)', () => {
    const key = Buffer.from(
      'AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==',
      'base64',
    )
    const rdata = new Uint8Array(Buffer.concat([Buffer.from([1, 0, 3, 5]), key]))
    assert.equal(keyTag(rdata), 60485)
    const digest = dsDigest(toName('dskey.example.com'), rdata, 1)
    assert.equal(
      Buffer.from(digest as Uint8Array)
        .toString('hex')
        .toUpperCase(),
      '2BB183AF5F22588179A53B0A98631FAD1A292118',
    )
  })

  it('RFC 4035 §5.3.2: the signed owner of a wildcard expansion', () => {
    assert.equal(signedOwner(toName('x.y.wild._device.example.test'), 4), '*.wild._device.example.test.')
    assert.equal(signedOwner(toName('dev1._device.example.test'), 4), 'dev1._device.example.test.')
  })

  it('RFC 1982 serial arithmetic across the 2106 wrap', () => {
    assert.ok(serialLte(0xfffffff0, 0x00000010))
    assert.ok(!serialLte(0x00000010, 0xfffffff0))
    assert.ok(serialLte(5, 5))
  })
})
