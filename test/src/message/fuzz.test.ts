/** A short fuzz run of the opener in npm test (the long run, 100,000+ cases, is `npm run bench:fuzz`). */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { buildCorpus, mutate, openerProperty } from '../../../testkit/fuzz-target.js'

describe('opener fuzz (short run)', () => {
  for (const name of ['node', 'noble'] as const) {
    it(`${name}: mutants of valid messages never crash it and are never accepted as something else`, async () => {
      const corpus = await buildCorpus(getProvider(name))
      await fc.assert(openerProperty(corpus), { numRuns: name === 'node' ? 1500 : 150, seed: Number(process.env.FUZZ_SEED ?? 20261125) })
    })
  }
  it('the property fails for an opener that accepts a modified message, or crashes (a control)', async () => {
    const expected = { from: 'a', profile: 'compact', serialization: 'compact', auth: 'dnssec' } as const
    const lax = { seeds: [{ message: 'aaaa.bbbb', expected, opener: { open: async (m: string) => ({ ...expected, from: m }) } }] }
    await assert.rejects(fc.assert(openerProperty(lax), { numRuns: 20, seed: 1 }))
    const crashing = {
      seeds: [
        {
          message: 'aaaa.bbbb',
          expected,
          opener: {
            open: async () => {
              throw new TypeError('boom')
            },
          },
        },
      ],
    }
    await assert.rejects(fc.assert(openerProperty(crashing), { numRuns: 20, seed: 1 }))
  })
  it('the mutator really mutates (a control for the property above)', () => {
    assert.notEqual(mutate('aaaa.bbbb.cccc', [{ kind: 'flip', at: 1, bit: 0 }]), 'aaaa.bbbb.cccc')
    assert.equal(mutate('aaaa.bbbb.cccc', [{ kind: 'swapParts', i: 0, j: 2 }]), 'cccc.bbbb.aaaa')
  })
})
