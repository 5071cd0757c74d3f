/** `daneel gateway` and the original systems' senders (RSA, no claims) through Mosquitto: LEGACY_DOMAINS, bound=false, byte-exact replays stored once. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import type { ReadingRow } from '../../gateway/store/types.js'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { pemDecode } from '../../src/x509/pem.js'
import { GATEWAY, type GatewayLab, type GatewayProcess, startGatewayLab, startGatewayProcess } from '../../testkit/gateway-lab.js'
import { cliPath } from '../../testkit/paths.js'
import { workshopEncode, workshopIdentity } from '../../testkit/workshop.js'

/*
 * The original system (ValiMail dane_jwe_jws) signs the payload as it is, RS256 with an RSA key, and encrypts it
 * RSA-OAEP-256 + A256CBC-HS512 to an RSA recipient, as a flattened JSON JWE: `daneel seal --profile valimail --raw`
 * writes exactly that form (checked against jwcrypto in test/src/message/jose-interop.test.ts). The DEF CON 29
 * workshop's message is made by its own encode.py (testkit/workshop.ts).
 */
const OLD = 'old1.legacy._device.example.test' // under the opted-in domain
const WS = 'ws1.legacy._device.example.test' // a workshop device, same domain
const OUTSIDER = 'old2.elsewhere._device.example.test' // trusted (example.test), not opted in
const LEGACY = 'legacy._device.example.test'
const READING = '{"pm25":12.3,"pm10":20.1}'

describe('gateway: the original systems under LEGACY_DOMAINS', { timeout: 180_000 }, () => {
  let w: GatewayLab
  let pub: mqtt.MqttClient
  const sealed: Record<string, string> = {}

  /** `daneel seal` as the sender `from`, the recipient's key found in the lab's DNS. */
  function seal(from: string, args: string[], input: string): string {
    const r = spawnSync(process.execPath, [cliPath, 'seal', '--to', GATEWAY, ...args], {
      input,
      encoding: 'utf8',
      env: { ...w.env, DANE_ID: from, DANEEL_STATE: join(w.dir, `state-${from}`) },
    })
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.trim()
  }

  before(async () => {
    w = await startGatewayLab('daneel-gwlegacy-', 0, { gatewayKey: 'rsa2048' })
    const publish = (name: string, cert: Parameters<typeof makeTlsaRecord>[0]) =>
      w.lab.setRecords('example.test.', name.replace(/\.example\.test$/, ''), 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 0))])
    for (const name of [OLD, OUTSIDER]) {
      const id = createIdentity({ cryptoPath: w.cryptoPath, daneId: name, keyType: 'rsa2048' })
      // biome-ignore lint/style/noNonNullAssertion: createIdentity always makes a certificate without --csr
      await publish(name, id.cert!)
    }
    // the workshop device: its identity by the workshop's own script, its message by its encode.py
    const ids = join(w.dir, 'workshop-ids')
    mkdirSync(ids, { mode: 0o700 })
    workshopIdentity(ids, WS)
    copyFileSync(join(w.cryptoPath, `${GATEWAY}.crt.pem`), join(ids, `${GATEWAY}.cert.pem`))
    await publish(WS, pemDecode(readFileSync(join(ids, `${WS}.cert.pem`), 'utf8'), 'CERTIFICATE')[0] as Uint8Array)
    sealed.workshop = workshopEncode(ids, WS, GATEWAY, '{"pm25":7.5}')
    sealed.old = seal(OLD, ['--profile', 'valimail', '--raw'], READING)
    sealed.outsider = seal(OUTSIDER, ['--profile', 'valimail', '--raw'], READING)
    // what the original system sends: no claims inside, only the reading
    assert.ok(sealed.old.startsWith('{"protected":'), sealed.old.slice(0, 40))
    pub = await mqtt.connectAsync(w.broker.url, { protocolVersion: 5, clientId: 'legacy-pub' })
  })
  after(async () => {
    await pub?.endAsync()
    await w?.stop()
  })

  async function metrics(gw: GatewayProcess): Promise<{ stored: number; duplicates: number; rejected: Record<string, number> }> {
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()
    const rejected: Record<string, number> = {}
    for (const m of text.matchAll(/^daneel_messages_rejected_total\{code="([A-Z_]+)"\} (\d+)$/gm)) rejected[m[1] as string] = Number(m[2])
    return {
      stored: Number(/^daneel_readings_stored_total (\d+)$/m.exec(text)?.[1] ?? -1),
      duplicates: Number(/^daneel_readings_duplicate_total (\d+)$/m.exec(text)?.[1] ?? -1),
      rejected,
    }
  }
  async function until(gw: GatewayProcess, ok: (m: Awaited<ReturnType<typeof metrics>>) => boolean, what: string) {
    const end = Date.now() + 30_000
    for (;;) {
      const m = await metrics(gw)
      if (ok(m)) return m
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(m)} ${gw.stderr()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const rows = async (gw: GatewayProcess, node: string): Promise<ReadingRow[]> =>
    (await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/readings?node=${node}&limit=100`)).json()) as ReadingRow[]
  const stop = async (gw: GatewayProcess): Promise<void> => {
    gw.proc.kill('SIGTERM')
    assert.equal(await gw.exited(), 0, gw.stderr())
  }

  it('refuses them all without the opt-in (counted ERR_UNBOUND_REFUSED), stores nothing', async () => {
    const gw = await startGatewayProcess(w, ['--client-id', 'gw-plain', '--store', `sqlite:${join(w.dir, 'plain.db')}`])
    await gw.ready()
    for (const m of [sealed.old, sealed.workshop]) await pub.publishAsync(GATEWAY, m as string, { qos: 1 })
    const m = await until(gw, (x) => (x.rejected.ERR_UNBOUND_REFUSED ?? 0) >= 2, 'two refusals')
    assert.deepEqual([m.stored, m.duplicates, m.rejected], [0, 0, { ERR_UNBOUND_REFUSED: 2 }])
    await stop(gw)
  })

  it('stores them from an opted-in domain (bound=false), refuses the other domain, a byte-exact replay is stored once, also after a restart', async () => {
    const store = `sqlite:${join(w.dir, 'legacy.db')}`
    const args = ['--store', store, '--client-id', 'gw-legacy']
    // LEGACY_DOMAINS from the environment, as a deployment sets it (--legacy-domains is the same setting)
    const env = { LEGACY_DOMAINS: LEGACY }
    const gw1 = await startWithEnv(w, args, env)
    await gw1.ready()
    await pub.publishAsync(GATEWAY, sealed.old as string, { qos: 1 })
    await pub.publishAsync(GATEWAY, sealed.old as string, { qos: 1 }) // the same bytes again
    await pub.publishAsync(GATEWAY, sealed.outsider as string, { qos: 1 })
    await pub.publishAsync(GATEWAY, sealed.workshop as string, { qos: 1 })
    const m = await until(gw1, (x) => x.stored + x.duplicates + (x.rejected.ERR_UNBOUND_REFUSED ?? 0) >= 4, 'four handled')
    assert.deepEqual([m.stored, m.duplicates, m.rejected], [2, 1, { ERR_UNBOUND_REFUSED: 1 }], gw1.stderr())
    const old = await rows(gw1, OLD)
    assert.equal(old.length, 1)
    assert.deepEqual(
      { node: old[0]?.node, seq: old[0]?.seq, bound: old[0]?.bound, auth: old[0]?.auth, values: old[0]?.values },
      { node: OLD, seq: null, bound: false, auth: 'dnssec', values: { pm25: 12.3, pm10: 20.1 } },
    )
    const ws = await rows(gw1, WS)
    assert.deepEqual([ws.length, ws[0]?.bound, ws[0]?.values], [1, false, { pm25: 7.5 }])
    assert.deepEqual(await rows(gw1, OUTSIDER), [])
    await stop(gw1)

    // the durable guard is the store's legacy_digests: a new process, the same bytes, still one row
    const gw2 = await startWithEnv(w, args, env)
    await gw2.ready()
    await pub.publishAsync(GATEWAY, sealed.old as string, { qos: 1 })
    const m2 = await until(gw2, (x) => x.duplicates >= 1, 'the replay after restart')
    assert.deepEqual([m2.stored, m2.duplicates], [0, 1])
    assert.equal((await rows(gw2, OLD)).length, 1)
    await stop(gw2)
  })
})

/** startGatewayProcess with extra environment (LEGACY_DOMAINS) for the gateway. */
async function startWithEnv(w: GatewayLab, args: string[], env: Record<string, string>): Promise<GatewayProcess> {
  const saved = w.env
  w.env = { ...saved, ...env }
  try {
    return await startGatewayProcess(w, args)
  } finally {
    w.env = saved
  }
}
