/** The opener fuzz target (fast-check): mutations of valid sealed messages never crash it and are never accepted as something else. */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { CryptoProvider } from '../src/crypto/provider.js'
import { isDaneelError } from '../src/errors.js'
import type { OpenedMessage, Opener } from '../src/message/open.js'
import { identity, NOW, openerFor, READING, RECIPIENT, SENDER, sealerFor } from './message-fixtures.js'

/** One valid message per profile and serialization, with the opener that accepts it (replay guard off, so a resent original is still accepted). */
export interface Corpus {
  seeds: { message: string; opener: Opener; expected: OpenedMessage }[]
}

export async function buildCorpus(provider: CryptoProvider): Promise<Corpus> {
  const seeds: Corpus['seeds'] = []
  for (const type of ['p256', 'ed25519', 'rsa'] as const) {
    const from = identity(SENDER, type)
    const to = identity(RECIPIENT, type)
    for (const serialization of ['compact', 'json'] as const) {
      const message = sealerFor(provider, from, to, { serialization, recipientX5u: true }).seal(READING, { now: NOW, seq: 42 })
      const opener = openerFor(provider, to, [from], { replay: { check: () => true } })
      seeds.push({ message, opener, expected: await opener.open(message) })
    }
  }
  return { seeds }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** A mutation of a message: bytes flipped, replaced, inserted, deleted; parts swapped, duplicated or dropped. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 6 }) }),
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    ch: fc.constantFrom(...B64.split(''), '.', '=', ' ', '"', '{', '}', '\\', '\u00e9', '\u0000'),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapParts' as const), i: fc.nat(6), j: fc.nat(6) }),
  fc.record({ kind: fc.constant('dupPart' as const), i: fc.nat(6) }),
  fc.record({ kind: fc.constant('dropPart' as const), i: fc.nat(6) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

export function mutate(message: string, ms: Mutation[]): string {
  let s = message
  for (const m of ms) {
    const n = Math.max(s.length, 1)
    switch (m.kind) {
      case 'flip': {
        const i = m.at % n
        s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << m.bit)) + s.slice(i + 1)
        break
      }
      case 'replace': {
        const i = m.at % n
        s = s.slice(0, i) + m.ch + s.slice(i + 1)
        break
      }
      case 'insert': {
        const i = m.at % (s.length + 1)
        s = s.slice(0, i) + m.text + s.slice(i)
        break
      }
      case 'delete': {
        const i = m.at % n
        s = s.slice(0, i) + s.slice(i + m.len)
        break
      }
      case 'truncate':
        s = s.slice(0, m.at % n)
        break
      default: {
        const sep = s.startsWith('{') ? ',' : '.'
        const parts = s.split(sep)
        const i = (m as { i: number }).i % parts.length
        if (m.kind === 'swapParts') {
          const j = m.j % parts.length
          ;[parts[i], parts[j]] = [parts[j] as string, parts[i] as string]
        } else if (m.kind === 'dupPart') parts.splice(i, 0, parts[i] as string)
        else parts.splice(i, 1)
        s = parts.join(sep)
      }
    }
  }
  return s
}

/** The property: every mutant is rejected with a DaneelError, or opens to exactly what the original said. */
export function openerProperty(corpus: Corpus): fc.IAsyncPropertyWithHooks<[number, Mutation[]]> {
  return fc.asyncProperty(fc.nat(corpus.seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (k, ms) => {
    const seed = corpus.seeds[k] as Corpus['seeds'][number]
    const mutant = mutate(seed.message, ms)
    let opened: OpenedMessage
    try {
      opened = await seed.opener.open(mutant)
    } catch (err) {
      if (!isDaneelError(err))
        throw new Error(`crash (not a DaneelError) on mutant ${JSON.stringify(mutant.slice(0, 200))}: ${String(err)}`)
      return
    }
    // Accepted: only when nothing that matters changed (e.g. JSON whitespace, or a mutation undone by another).
    assert.deepEqual(opened, seed.expected, `a modified message was accepted: ${JSON.stringify(mutant.slice(0, 200))}`)
  })
}
