/**
 * A whole key rollover against the Knot lab (create, publish current + next, commit, finish) while sealed messages
 * flow both ways through src/message/seal.ts + open.ts: not one message may be rejected at any step.
 */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { systemClock } from '../../src/clock.js'
import { nodeProvider } from '../../src/crypto/node.js'
import { createPeerDirectory, type PeerDirectory } from '../../src/dane/discover.js'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../src/dns/resolver.js'
import { isDaneelError } from '../../src/errors.js'
import { decryptionKeys, rolloverPaths } from '../../src/identity/rollover.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { createOpener, type Opener } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'
import { createSealer } from '../../src/message/seal.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const DEVICE = 'roll9.airquality._device.example.test'
const DEVICE_OWNER = 'roll9.airquality._device'
const GATEWAY = 'gw._device.example.test'
const TTL = 2

const tmp = makeTempDir('daneel-rotate-')
const deviceCrypto = join(tmp.dir, 'device')
const gatewayCrypto = join(tmp.dir, 'gateway')
let lab: DnsLab

const cli = (args: string[], extra: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> =>
  new Promise((resolve) => {
    const env = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: deviceCrypto,
      DANE_ID: DEVICE,
      DANEEL_STATE: join(tmp.dir, 'state'),
      ...extra,
    }
    execFile(process.execPath, [cliPath, ...args], { env, timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e === null ? 0 : Number(e.code), out, err }),
    )
  })

/** The zone-file lines a command printed for our name, re-stamped with the short test TTL. */
const printedRecords = (out: string): string[] =>
  [...out.matchAll(new RegExp(`^\\s*(${DEVICE.replaceAll('.', '\\.')}\\.) \\d+ IN TLSA (.+)$`, 'gm'))].map(
    (m) => `${m[1]} ${TTL} IN TLSA ${m[2]}`,
  )

/**
 * An opener that accepts a signature by any key the sender publishes (PeerIdentity.spkis) and decrypts with any of
 * our rollover keys (decryptionKeys): src/message/open.ts takes one sender key and one recipient key, so this tries
 * each pair. A failed try never reaches the replay guard (signatures are checked first), so retrying is safe.
 */
function rolloverOpener(name: string, keys: () => KeyObject[], directory: PeerDirectory): Opener {
  const replay = createReplayWindow()
  return {
    async open(message) {
      let firstErr: unknown
      for (const key of keys()) {
        for (let i = 0; ; i++) {
          let more = false
          const opener = createOpener({
            provider: nodeProvider,
            recipientName: name,
            recipientKey: key,
            trustedDomains: ['example.test'],
            clock: systemClock,
            replay,
            resolveSender: async (from) => {
              const id = await directory.lookup(from)
              more = i + 1 < id.spkis.length
              return { spki: id.spkis[i] ?? id.spki, auth: id.auth }
            },
          })
          try {
            return await opener.open(message)
          } catch (err) {
            firstErr ??= err
            if (!isDaneelError(err, 'ERR_JWS_SIGNATURE') || !more) break
          }
        }
      }
      throw firstErr
    },
  }
}

before(async () => {
  lab = await startDnsLab()
  const dev = createIdentity({ cryptoPath: deviceCrypto, daneId: DEVICE }).cert
  const gw = createIdentity({ cryptoPath: gatewayCrypto, daneId: GATEWAY }).cert
  assert.ok(dev !== undefined && gw !== undefined, 'self-signed identities carry their certificate')
  await lab.setRecords('example.test.', DEVICE_OWNER, 'TLSA', [
    `${DEVICE}. ${TTL} IN TLSA ${formatTlsaRdata(makeTlsaRecord(dev, 3, 0, 0))}`,
  ])
  await lab.setRecords('example.test.', 'gw._device', 'TLSA', [formatTlsaRdata(makeTlsaRecord(gw, 3, 0, 0))])
})
after(async () => {
  await lab?.stop()
  tmp.cleanup()
})

test('create → publish current + next → commit → finish, with messages both ways at every step and none rejected', async () => {
  const resolver = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile) })
  // both sides look keys up like any receiver: validated, cached for the record TTL
  const directory = createPeerDirectory({ resolver, clock: systemClock, noDnssec: false })
  const gatewayKey = loadIdentity(gatewayCrypto, GATEWAY).privateKey
  const gatewayOpener = rolloverOpener(GATEWAY, () => [gatewayKey], directory)
  const deviceOpener = rolloverOpener(DEVICE, () => decryptionKeys(deviceCrypto, DEVICE), directory)

  let phase = 'created'
  let seq = 0
  const opened = new Map<string, number>()
  const rejected: string[] = []
  /** Seals `body` from `from` to `to`, encrypted to the key the directory finds for `to` now. */
  const sealTo = async (from: string, key: KeyObject, to: string, body: object, s: number): Promise<string> =>
    createSealer({
      provider: nodeProvider,
      senderName: from,
      senderKey: key,
      recipientName: to,
      recipientSpki: (await directory.lookup(to)).spki,
    }).seal(body, { now: Date.now(), seq: s })
  const exchange = async (): Promise<void> => {
    const at = phase
    const s = ++seq
    try {
      // device → gateway: signed with whatever key the device holds right now
      const deviceKey = loadIdentity(deviceCrypto, DEVICE).privateKey
      const m1 = await gatewayOpener.open(await sealTo(DEVICE, deviceKey, GATEWAY, { pm25: s }, s))
      assert.equal(m1.from, DEVICE)
      // gateway → device: encrypted to the key DNS publishes first
      const m2 = await deviceOpener.open(await sealTo(GATEWAY, gatewayKey, DEVICE, { cmd: s }, s))
      assert.equal(m2.from, GATEWAY)
      opened.set(at, (opened.get(at) ?? 0) + 1)
    } catch (err) {
      rejected.push(`${at} #${s}: ${(err as Error).message}`)
    }
  }
  let running = true
  const traffic = (async () => {
    while (running) {
      await exchange()
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

  try {
    await settle(300)
    // 1. stage the next key: two records to publish
    const staged = await cli(['identity', 'rotate'])
    assert.equal(staged.code, 0, staged.out + staged.err)
    const both = printedRecords(staged.out)
    assert.equal(both.length, 2, staged.out)
    assert.ok(existsSync(rolloverPaths(deviceCrypto, DEVICE).nextKey))
    phase = 'staged'
    await settle(300)
    // commit refuses while DNS does not show the next record
    const early = await cli(['identity', 'rotate', '--commit'])
    assert.equal(early.code, 1, early.out + early.err)
    assert.match(early.out, /does not show the next record yet/)

    // 2. publish current + next
    await lab.setRecords('example.test.', DEVICE_OWNER, 'TLSA', both)
    phase = 'published current+next'
    const mon = await cli(['monitor', '--json'])
    assert.notEqual(mon.out.trim(), '', mon.err)
    const checks = JSON.parse(mon.out).checks as Array<{ id: string; level: string; summary: string }>
    assert.equal(mon.code, 0, mon.out)
    assert.match(checks.find((c) => c.id === `rollover:${DEVICE}`)?.summary ?? '', /rollover in progress: next key published/)
    assert.match(checks.find((c) => c.id === `identity:${DEVICE}`)?.summary ?? '', /rollover in progress/)
    await settle(300)

    // 3. commit: the first look records when the next record appeared; the old TTL must pass before the switch
    const notYet = await cli(['identity', 'rotate', '--commit'])
    assert.equal(notYet.code, 1, notYet.out + notYet.err)
    assert.match(notYet.out, /caches may hold the old RRset/)
    const committed = await cli(['identity', 'rotate', '--commit', '--wait'])
    assert.equal(committed.code, 0, committed.out + committed.err)
    assert.match(committed.out, /switched to the next key/)
    phase = 'committed'
    await settle(TTL * 1000 + 300)

    // 4. finish: the record set without the old record; the old key goes once DNS no longer shows it (for a TTL)
    const fin = await cli(['identity', 'rotate', '--finish'])
    assert.equal(fin.code, 0, fin.out + fin.err)
    const only = printedRecords(fin.out)
    assert.equal(only.length, 1)
    assert.ok(both.includes(only[0] as string), 'the remaining record is the next one published before')
    assert.ok(existsSync(rolloverPaths(deviceCrypto, DEVICE).prevKey), 'old key kept while DNS still shows it')
    await lab.setRecords('example.test.', DEVICE_OWNER, 'TLSA', only)
    phase = 'published next only'
    await settle(300)
    const done = await cli(['identity', 'rotate', '--finish', '--wait'])
    assert.equal(done.code, 0, done.out + done.err)
    assert.match(done.out, /rollover finished/)
    assert.ok(!existsSync(rolloverPaths(deviceCrypto, DEVICE).prevKey))
    phase = 'finished'
    await settle(TTL * 1000 + 500)
    const check = await cli(['identity', 'check'])
    assert.equal(check.code, 0, check.out)
  } finally {
    running = false
    await traffic
  }
  assert.deepEqual(rejected, [])
  for (const p of ['created', 'staged', 'published current+next', 'committed', 'published next only', 'finished']) {
    assert.ok((opened.get(p) ?? 0) > 0, `messages opened while ${p}: ${JSON.stringify([...opened])}`)
  }
})
