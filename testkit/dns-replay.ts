/** Offline DNS: a transport that answers from recorded wire bytes (test/fixtures/dns), with the query's ID patched in. */
import { readFileSync } from 'node:fs'
import { fixedClock } from '../src/clock.js'
import { parseTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { createResolver, type Resolver, type ResolverOptions } from '../src/dns/resolver.js'
import type { Exchange, Transport } from '../src/dns/transport.js'
import { DaneelError } from '../src/errors.js'
import { fixturePath } from './paths.js'

export interface LabFixture {
  source: string
  recordedAt: string
  clockMs: number
  trustAnchors: string
  cases: Array<{
    name: string
    type: string
    note: string
    expected: 'secure' | 'insecure' | 'bogus'
    negative: 'nxdomain' | 'nodata' | null
  }>
  exchanges: Record<string, string>
}

export const loadLabFixture = (): LabFixture => JSON.parse(readFileSync(fixturePath('dns/lab-2026-11-25.json'), 'utf8')) as LabFixture

export interface ReplayTransport extends Transport {
  /** Every exchange asked for, in order ("type/name/udp|tcp"). */
  log: string[]
  /** When true every exchange times out (servers down). */
  down: boolean
  /** Edits a reply before it is returned (to tamper with recorded bytes). */
  mutate?: (key: string, bytes: Uint8Array) => Uint8Array
}

export function replayTransport(exchanges: Record<string, string>): ReplayTransport {
  const t: ReplayTransport = {
    log: [],
    down: false,
    async exchange(x: Exchange) {
      const key = `${x.question.type}/${x.question.name}/${x.tcp ? 'tcp' : 'udp'}`
      t.log.push(key)
      const b64 = exchanges[key]
      if (t.down || b64 === undefined) throw new DaneelError('ERR_DNS_TIMEOUT', `no recorded answer for ${key}`)
      let bytes: Uint8Array = new Uint8Array(Buffer.from(b64, 'base64'))
      bytes[0] = x.id >> 8
      bytes[1] = x.id & 0xff
      if (t.mutate !== undefined) bytes = t.mutate(key, bytes)
      return bytes
    },
  }
  return t
}

/**
 * A resolver over the recorded lab: `transport` (usually a replayTransport of its exchanges), the lab's trust
 * anchors, the clock at recording time, a loopback server; `opts` adds or overrides (cache, retries, mode...).
 */
export function replayResolver(fx: LabFixture, transport: Transport, opts: Partial<ResolverOptions> = {}): Resolver {
  return createResolver({
    servers: ['127.0.0.1'],
    transport,
    clock: fixedClock(fx.clockMs),
    trustAnchors: parseTrustAnchors(fx.trustAnchors),
    ...opts,
  })
}
