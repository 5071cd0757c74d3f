/** Key rollover at the opener: a sender publishing current + next keys, and a recipient holding previous + next keys. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { identity, NOW, openerFor, RECIPIENT, SENDER, sealerFor } from '../../../testkit/message-fixtures.js'

const READING = { pm25: 12.3, co2: 612 }

for (const provider of [getProvider('node'), getProvider('noble')]) {
  describe(`rollover (${provider.name})`, () => {
    const current = identity(SENDER, 'p256')
    const next = identity(`${SENDER}#next`, 'p256')
    const nextAsSender = { ...next, name: SENDER }
    const to = identity(RECIPIENT, 'p256')
    const toNext = identity(`${RECIPIENT}#next`, 'p256')
    const toNextNamed = { ...toNext, name: RECIPIENT }

    it('verifies a signature by any published key, in either RRset order', async () => {
      for (const spkis of [
        [current.spki, next.spki],
        [next.spki, current.spki],
      ]) {
        const opener = openerFor(provider, to, [], { resolveSender: async () => ({ spki: spkis[0] as Uint8Array, spkis, auth: 'dnssec' }) })
        for (const [i, signer] of [current, nextAsSender].entries()) {
          const opened = await opener.open(sealerFor(provider, signer, to).seal(READING, { now: NOW, seq: 42 + i }))
          assert.equal(opened.from, SENDER)
        }
      }
    })

    it('still rejects a key that is not published, and a signature by a removed key', async () => {
      const stranger = { ...identity(`${SENDER}#stranger`, 'p256'), name: SENDER }
      const opener = openerFor(provider, to, [], {
        resolveSender: async () => ({ spki: next.spki, spkis: [next.spki], auth: 'dnssec' }),
      })
      await assert.rejects(opener.open(sealerFor(provider, stranger, to).seal(READING, { now: NOW, seq: 42 })), {
        code: 'ERR_JWS_SIGNATURE',
      })
      await assert.rejects(opener.open(sealerFor(provider, current, to).seal(READING, { now: NOW, seq: 43 })), {
        code: 'ERR_JWS_SIGNATURE',
      })
    })

    it('decrypts with further recipient keys (messages to the previous and the next key both open)', async () => {
      const opener = openerFor(provider, toNextNamed, [current], { recipientKeys: [to.privateKey] })
      const toNextSealed = sealerFor(provider, current, toNextNamed).seal(READING, { now: NOW, seq: 42 })
      const toPrevSealed = sealerFor(provider, current, to).seal(READING, { now: NOW, seq: 43 })
      assert.equal((await opener.open(toNextSealed)).from, SENDER)
      assert.equal((await opener.open(toPrevSealed)).from, SENDER)
      const without = openerFor(provider, toNextNamed, [current])
      await assert.rejects(without.open(sealerFor(provider, current, to).seal(READING, { now: NOW, seq: 44 })), { code: 'ERR_JWE_DECRYPT' })
    })
  })
}
