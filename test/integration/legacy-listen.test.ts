/** `daneel listen` and `send` with the original systems: the workshop's encode.py messages over a real Mosquitto, LEGACY_DOMAINS, replays, GROUP_NAME. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { pemDecode } from '../../src/x509/pem.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'
import { makeWorkshopFixture } from '../../testkit/workshop.js'
import { type Listener, startListener, startWorld, type World, waitFor } from './messaging-setup.js'

// the workshop's identities (its identity script) and encode.py's messages, made now in a temp dir
const tmp = makeTempDir('daneel-workshop-')
after(() => tmp.cleanup())
const fx = makeWorkshopFixture(tmp.dir)
const GW = fx.recipient
const TX = 'tx.workshop._device.example.test'
const owner = (name: string): string => name.replace(/\.example\.test$/, '')

/** Polls the listener's counters (SIGUSR1) until `ok` holds. */
async function statsUntil(rx: Listener, ok: (s: Stats) => boolean, what: string): Promise<Stats> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const s = await rx.stats()
    if (ok(s)) return s
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)} ${rx.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
type Stats = Awaited<ReturnType<Listener['stats']>>

describe('listen: the original systems under LEGACY_DOMAINS', { timeout: 120_000 }, () => {
  let w: World
  let pub: mqtt.MqttClient
  before(async () => {
    w = await startWorld('daneel-legacy-', [])
    // The workshop identities made above: the sender's certificate published as the original system does
    // (3 0 0, the full certificate), the recipient's key and certificate in our CRYPTO_PATH.
    const cert = (name: string) => pemDecode(readFileSync(fx.cert(name), 'utf8'), 'CERTIFICATE')[0] as Uint8Array
    await w.lab.setRecords('example.test.', owner(fx.sender), 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert(fx.sender), 3, 0, 0))])
    await w.lab.setRecords('example.test.', owner(GW), 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert(GW), 3, 0, 0))])
    copyFileSync(fx.key(GW), join(w.cryptoPath, `${GW}.key.pem`))
    chmodSync(join(w.cryptoPath, `${GW}.key.pem`), 0o600) // a key readable by others is refused
    copyFileSync(fx.cert(GW), join(w.cryptoPath, `${GW}.crt.pem`))
    const tx = createIdentity({ cryptoPath: w.cryptoPath, daneId: TX, keyType: 'rsa2048' })
    await w.lab.setRecords('example.test.', owner(TX), 'TLSA', [formatTlsaRdata(makeTlsaRecord(tx.cert!, 3, 1, 0))])
    pub = await mqtt.connectAsync(w.broker.url, { protocolVersion: 5, clientId: 'workshop-pub' })
  })
  after(async () => {
    await pub?.endAsync()
    await w?.stop()
  })

  it("opens encode.py's messages from an opted-in domain, refuses their byte-exact replay, also after a restart", async () => {
    const args = ['--legacy-domains', 'workshop._device.example.test']
    const rx = startListener(w, [...args, '--client-id', 'legacy-rx'], 'state-legacy', GW)
    await rx.ready()
    const [m0, m1] = fx.messages as [{ text: string; sealed: string }, { text: string; sealed: string }]
    // as the workshop's send_message.sh does: the base64 text as the MQTT payload, on the recipient's name
    await pub.publishAsync(GW, m0.sealed, { qos: 1 })
    await pub.publishAsync(GW, m0.sealed, { qos: 1 })
    await pub.publishAsync(GW, m1.sealed, { qos: 1 })
    await waitFor(() => rx.lines.length >= 2, 20_000, `two messages (${rx.stderr()})`)
    const s = await statsUntil(
      rx,
      (x) => x.received >= 3 && x.opened + Object.values(x.rejected).reduce((a, b) => a + b, 0) + (x.duplicatesJoined ?? 0) >= 3,
      'three handled',
    )
    // the copy is refused as a replay, or joined to the first while that one is still in flight (the receiver
    // prints a message once whichever way); either way it is never printed twice
    assert.equal((s.rejected.ERR_REPLAY ?? 0) + (s.duplicatesJoined ?? 0), 1, JSON.stringify(s))
    assert.equal(rx.lines.length, 2)
    const texts = rx.lines.map((l) => Buffer.from(l.payload as string, 'base64url').toString('utf8'))
    assert.deepEqual(texts, [m0.text, m1.text])
    assert.equal(rx.lines[0]?.from, fx.sender)
    assert.equal(rx.lines[0]?.auth, 'dnssec')
    rx.proc.kill('SIGTERM')
    await new Promise((r) => rx.proc.once('exit', r))

    const again = startListener(w, [...args, '--client-id', 'legacy-rx2'], 'state-legacy', GW)
    await again.ready()
    await pub.publishAsync(GW, m1.sealed, { qos: 1 })
    const s2 = await statsUntil(again, (x) => Object.values(x.rejected).reduce((a, b) => a + b, 0) >= 1, 'the replay handled')
    assert.equal(s2.rejected.ERR_REPLAY, 1, JSON.stringify(s2))
    assert.equal(again.lines.length, 0)
    again.proc.kill('SIGTERM')
  })

  it('refuses them without the opt-in, and from a sender outside LEGACY_DOMAINS', async () => {
    for (const [i, args] of [[], ['--legacy-domains', 'other.example.test']].entries()) {
      const rx = startListener(w, [...args, '--client-id', `plain-rx${i}`], `state-plain${i}`, GW)
      await rx.ready()
      await pub.publishAsync(GW, fx.messages[0]?.sealed as string, { qos: 1 })
      const s = await statsUntil(rx, (x) => Object.values(x.rejected).reduce((a, b) => a + b, 0) >= 1, 'the refusal')
      assert.equal(s.rejected.ERR_UNBOUND_REFUSED, 1, JSON.stringify(s))
      assert.equal(rx.lines.length, 0)
      rx.proc.kill('SIGTERM')
      await new Promise((r) => rx.proc.once('exit', r))
    }
  })

  it('GROUP_NAME: send --profile workshop publishes on GROUP/<name>, where listen with the same GROUP_NAME reads it', async () => {
    const rx = startListener(
      w,
      ['--legacy-domains', 'example.test', '--group-name', 'airquality', '--client-id', 'group-rx'],
      'state-g',
      GW,
    )
    await rx.ready()
    const tap = await mqtt.connectAsync(w.broker.url, { protocolVersion: 5, clientId: 'group-tap' })
    const topics: string[] = []
    tap.on('message', (t) => topics.push(t))
    await tap.subscribeAsync('#', { qos: 1 })
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, [cliPath, 'send', GW, 'hello from daneel', '--profile', 'workshop'], {
        env: { ...w.env, DANE_ID: TX, GROUP_NAME: 'airquality', DANEEL_STATE: join(w.dir, 'state-send') },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let err = ''
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      p.on('exit', (code) => resolve({ code, err }))
    })
    assert.equal(r.code, 0, r.err)
    await waitFor(() => rx.lines.length >= 1, 20_000, `the group message (${rx.stderr()})`)
    assert.equal(rx.lines[0]?.from, TX)
    assert.equal(Buffer.from(rx.lines[0]?.payload as string, 'base64url').toString(), 'hello from daneel')
    assert.deepEqual(topics, [`airquality/${GW}`])
    await tap.endAsync()
    rx.proc.kill('SIGTERM')
  })
})
