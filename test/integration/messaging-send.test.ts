/** `daneel send` end to end: key found in the Knot lab, published to Mosquitto, opened by `daneel listen`; both profiles; failures. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeBrokerPki, startMosquitto } from '../../testkit/mosquitto.js'
import { cliPath } from '../../testkit/paths.js'
import { RX, startListener, startWorld, TX, type World, waitFor } from './messaging-setup.js'

const RSA_RX = 'legacy.gateway._device.example.test'
const RSA_TX = 'legacy.airquality._device.example.test'

function send(w: World, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, 'send', ...args], {
      env: { ...w.env, DANE_ID: TX, DANEEL_STATE: join(w.dir, 'state-send'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    w.children.push(p)
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('exit', (code) => resolve({ code, out, err }))
  })
}

describe('daneel send', { timeout: 120_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-send-', [RX, TX, RSA_RX, RSA_TX], { [RSA_RX]: 'rsa2048', [RSA_TX]: 'rsa2048' })
  })
  after(async () => {
    await w?.stop()
  })

  it('seals to the recipient found in DNS and publishes; listen prints it, and a second send is not a replay', async () => {
    const rx = startListener(w, ['--client-id', 'send-rx', '--count', '2'], 'state-rx')
    await rx.ready()
    const a = await send(w, [RX, '{"pm25":12.3}'])
    assert.equal(a.code, 0, a.err)
    const info = JSON.parse(a.out) as { to: string; seq: number; profile: string; auth: string }
    assert.equal(info.to, RX)
    assert.equal(info.profile, 'compact')
    assert.equal(info.auth, 'dnssec')
    const b = await send(w, [RX, 'plain text'])
    assert.equal(b.code, 0, b.err)
    assert.equal((JSON.parse(b.out) as { seq: number }).seq, info.seq + 1, 'the sequence number persists in DANEEL_STATE')
    await waitFor(() => rx.lines.length >= 2, 20_000, `two messages (${rx.stderr()})`)
    assert.equal(rx.lines[0]?.from, TX)
    assert.equal((rx.lines[0] as { reading: { pm25: number } }).reading.pm25, 12.3)
    assert.equal(rx.lines[0]?.auth, 'dnssec')
    assert.equal(Buffer.from((rx.lines[1] as { payload: string }).payload, 'base64url').toString(), 'plain text')
    // --count 2: listen exits 0 by itself, printing its final counters
    const code = rx.proc.exitCode ?? (await new Promise((r) => rx.proc.once('exit', r)))
    assert.equal(code, 0)
    assert.match(rx.stderr(), /\{"stats":\{"received":2,"opened":2,/)
  })

  it('--profile valimail from an RSA sender reaches an RSA receiver (RS256, RSA-OAEP-256 + A256CBC-HS512, flattened JSON)', async () => {
    const rx = startListener(w, ['--client-id', 'legacy-rx'], 'state-legacy', RSA_RX)
    await rx.ready()
    const r = await send(w, [RSA_RX, '{"co2":612}', '--profile', 'valimail'], { DANE_ID: RSA_TX })
    assert.equal(r.code, 0, r.err)
    assert.equal((JSON.parse(r.out) as { profile: string }).profile, 'valimail')
    await waitFor(() => rx.lines.length >= 1, 20_000, `the valimail message (${rx.stderr()})`)
    assert.equal((rx.lines[0] as { reading: { co2: number } }).reading.co2, 612)
    assert.equal(rx.lines[0]?.from, RSA_TX)
  })

  it('fails with exit 1 and a clear code when the name has no TLSA record, or no broker answers', async () => {
    const none = await send(w, ['nobody._device.example.test', 'x'])
    assert.equal(none.code, 1)
    assert.match(none.err, /\[ERR_(DNS_NXDOMAIN|DNS_NODATA|TLSA_NONE)\]/)
    const dead = await send(w, [RX, 'x', '--timeout', '2'], { MQTT_URL: 'mqtt://127.0.0.1:1' })
    assert.equal(dead.code, 1)
    assert.match(dead.err, /\[ERR_MQTT\]/)
  })

  it('reaches a broker over mqtts:// with a client certificate and a password (flags and env)', async () => {
    const d = join(w.dir, 'tls')
    makeBrokerPki(d)
    const tls = await startMosquitto({
      dir: d,
      users: { dev: 'pw-123' },
      tls: { cafile: join(d, 'ca.crt'), certfile: join(d, 'server.crt'), keyfile: join(d, 'server.key'), requireCertificate: true },
    })
    try {
      const flags = [
        '--mqtt-ca',
        join(d, 'ca.crt'),
        '--mqtt-cert',
        join(d, 'client.crt'),
        '--mqtt-key',
        join(d, 'client.key'),
        '--timeout',
        '5',
      ]
      const ok = await send(w, [RX, 'over tls', '--mqtt-username', 'dev', ...flags], { MQTT_URL: tls.url, MQTT_PASSWORD: 'pw-123' })
      assert.equal(ok.code, 0, ok.err)
      const viaEnv = await send(w, [RX, 'over tls'], {
        MQTT_URL: tls.url,
        MQTT_USERNAME: 'dev',
        MQTT_PASSWORD: 'pw-123',
        MQTT_CA: join(d, 'ca.crt'),
        MQTT_CERT: join(d, 'client.crt'),
        MQTT_KEY: join(d, 'client.key'),
      })
      assert.equal(viaEnv.code, 0, viaEnv.err)
      const wrongPw = await send(w, [RX, 'x', '--mqtt-username', 'dev', ...flags.slice(0, -2), '--timeout', '2'], {
        MQTT_URL: tls.url,
        MQTT_PASSWORD: 'wrong',
      })
      assert.equal(wrongPw.code, 1)
      assert.match(wrongPw.err, /\[ERR_MQTT\]/)
      const noCert = await send(w, [RX, 'x', '--mqtt-username', 'dev', '--mqtt-ca', join(d, 'ca.crt'), '--timeout', '2'], {
        MQTT_URL: tls.url,
        MQTT_PASSWORD: 'pw-123',
      })
      assert.equal(noCert.code, 1)
    } finally {
      await tls.stop()
    }
  })

  it('usage errors exit 2', async () => {
    assert.equal((await send(w, [RX])).code, 2)
    assert.equal((await send(w, [RX, 'x', '--profile', 'nope'])).code, 2)
    assert.equal((await send(w, [RX, 'x', '--raw'])).code, 2)
  })
})
