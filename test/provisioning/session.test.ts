/** The provisioning state machine with the real identity store: resume from torn states, refusals, what is derived from disk. */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { validateSettings } from '../../cli/commands/provision.js'
import { createIdentityOps } from '../../provisioning/identity.js'
import { parseJsonRequest, parseTextCommand } from '../../provisioning/line-protocol.js'
import { type IdentityOps, ProvisionSession, type Request } from '../../provisioning/session.js'
import { DONE_LINK, readStatus } from '../../provisioning/state.js'
import { isDaneelError } from '../../src/errors.js'
import { selfSignedP256Args } from '../../testkit/openssl.js'
import { makeTempDir } from '../../testkit/paths.js'

const NAME = 'dev9.airquality._device.example.test'
const temps: Array<() => void> = []
after(() => {
  for (const c of temps) c()
})

/** The real store and TLSA code; only the DNS self-check is scripted, so each test decides whether DNS matches. */
function session(checkOk: () => boolean = () => false): { s: ProvisionSession; dir: string } {
  const t = makeTempDir('daneel-session-')
  temps.push(t.cleanup)
  const real = createIdentityOps()
  const identity: IdentityOps = { ...real, check: async () => ({ ok: checkOk(), lines: ['scripted check'] }) }
  return { s: new ProvisionSession({ cryptoPath: t.dir, identity, validate: validateSettings }), dir: t.dir }
}

async function ok(s: ProvisionSession, req: Request): Promise<Record<string, unknown>> {
  const r = await s.handle(req)
  assert.equal(r.ok, true, JSON.stringify(r))
  return r.result ?? {}
}

async function fails(s: ProvisionSession, req: Request, code: string): Promise<void> {
  const r = await s.handle(req)
  assert.equal(r.ok, false)
  assert.equal(r.error?.code, code, JSON.stringify(r))
}

test('a key without its certificate (power cut mid-create) reads as partial and the next create replaces it', async () => {
  const { s, dir } = session()
  await ok(s, { op: 'set', values: { DANE_ID: NAME, broker: 'mqtt://h:1883' } })
  await ok(s, { op: 'create', keyType: 'p256' })
  const key = readFileSync(join(dir, `${NAME}.key.pem`), 'utf8')
  rmSync(join(dir, `${NAME}.crt.pem`))
  assert.equal(readStatus(dir).identity, 'partial')
  assert.equal(readStatus(dir).next, 'create')
  const r = await ok(s, { op: 'create', keyType: 'p256' })
  assert.ok(Array.isArray(r.tlsa))
  assert.notEqual(readFileSync(join(dir, `${NAME}.key.pem`), 'utf8'), key)
  assert.equal(readStatus(dir).identity, 'certificate')
  // hello names the protocol and the key by its SPKI SHA-256, which is the 3 1 1 record's data (openssl computes it)
  const hello = await ok(s, { op: 'hello' })
  assert.equal(hello.protocol, 'daneel-provision/1')
  const spki = spawnSync('openssl', ['pkey', '-in', join(dir, `${NAME}.key.pem`), '-pubout', '-outform', 'DER'])
  const dgst = spawnSync('openssl', ['dgst', '-sha256', '-r'], { input: spki.stdout, encoding: 'utf8' })
  assert.equal(hello.keyThumbprint, dgst.stdout.split(' ')[0])
})

test('create is idempotent; create force switches to a CSR and never leaves the old certificate beside the new key', async () => {
  const { s, dir } = session()
  await ok(s, { op: 'set', values: { DANE_ID: NAME, MQTT_URL: 'mqtt://h:1883' } })
  await ok(s, { op: 'create' })
  const crt = readFileSync(join(dir, `${NAME}.crt.pem`), 'utf8')
  assert.deepEqual((await ok(s, { op: 'create' })).created, false)
  assert.equal(readFileSync(join(dir, `${NAME}.crt.pem`), 'utf8'), crt)
  await fails(s, { op: 'csr' }, 'ERR_PROVISION')
  await ok(s, { op: 'create', csr: true, force: true, keyType: 'rsa2048' })
  assert.equal(existsSync(join(dir, `${NAME}.crt.pem`)), false)
  assert.equal(readStatus(dir).next, 'install')
  const csr = (await ok(s, { op: 'csr' })).csr as string
  const v = spawnSync('openssl', ['req', '-noout', '-verify', '-subject'], { input: csr, encoding: 'utf8' })
  assert.equal(v.status, 0, v.stderr)
  assert.match(v.stdout, new RegExp(NAME.replaceAll('.', '\\.')))
})

test('refusals: DANE_ID is fixed once a key exists; install checks the certificate; finish needs a passed check', async () => {
  let dnsMatches = false
  const { s, dir } = session(() => dnsMatches)
  await fails(s, { op: 'create' }, 'ERR_PROVISION')
  await fails(s, { op: 'set', values: { DANE_ID: 'not a name!' } }, 'ERR_NAME_INVALID')
  await fails(s, { op: 'set', values: { MQTT_URL: 'http://h' } }, 'ERR_CONFIG_INVALID')
  const bad = await s.handle({ op: 'set', values: { MQTT_URL: 'http://node:topsecret@h' } })
  assert.equal(bad.error?.code, 'ERR_CONFIG_INVALID')
  assert.doesNotMatch(JSON.stringify(bad), /topsecret/)
  assert.match(bad.error?.message ?? '', /http:\/\/\*\*\*@h/)
  await fails(s, { op: 'set', values: { PATH: '/tmp' } }, 'ERR_USAGE')
  await ok(s, { op: 'set', values: { DANE_ID: `${NAME.toUpperCase()}.`, MQTT_HOST: 'broker.example.test' } })
  assert.equal(readStatus(dir).settings.DANE_ID, NAME)
  await ok(s, { op: 'create', csr: true })
  await fails(s, { op: 'set', values: { DANE_ID: 'other.airquality._device.example.test' } }, 'ERR_PROVISION')
  // a certificate for another key and name: openssl makes one
  const t = makeTempDir('daneel-other-')
  temps.push(t.cleanup)
  spawnSync('openssl', selfSignedP256Args({ key: join(t.dir, 'k'), cert: join(t.dir, 'c'), days: 1, subject: '/CN=other.example.test' }))
  await fails(s, { op: 'install', pem: readFileSync(join(t.dir, 'c'), 'utf8') }, 'ERR_KEY_MISMATCH')
  await fails(s, { op: 'install', pem: 'not a pem' }, 'ERR_CERT_INVALID')
  assert.equal(readStatus(dir).identity, 'csr')
  // self-signed after all, then the DNS check: refused until it passes, unless forced
  await ok(s, { op: 'create', force: true })
  await fails(s, { op: 'check' }, 'ERR_TLSA_NO_MATCH')
  await fails(s, { op: 'finish' }, 'ERR_PROVISION')
  dnsMatches = true
  assert.equal((await ok(s, { op: 'check' })).matched, true)
  assert.equal(readStatus(dir).dnsChecked, true)
  const fin = await s.handle({ op: 'finish' })
  assert.equal(fin.ok, true)
  assert.equal(fin.end, true)
  assert.equal(readStatus(dir).next, 'done')
  await fails(s, { op: 'set', values: { TRUSTED_DOMAINS: 'x.test' } }, 'ERR_PROVISION')
  await fails(s, { op: 'create', force: true }, 'ERR_PROVISION')
})

test('a passed DNS check belongs to one certificate: a new certificate needs a new check', async () => {
  const { s, dir } = session(() => true)
  await ok(s, { op: 'set', values: { DANE_ID: NAME, MQTT_URL: 'mqtt://h:1883' } })
  await ok(s, { op: 'create' })
  await ok(s, { op: 'check' })
  assert.equal(readStatus(dir).next, 'finish')
  await ok(s, { op: 'create', force: true })
  assert.equal(readStatus(dir).dnsChecked, false)
  assert.equal(readStatus(dir).next, 'check')
})

test('the done link follows the key: deleting the key re-arms provisioning (the unit condition)', async () => {
  const { s, dir } = session(() => true)
  await ok(s, { op: 'set', values: { DANE_ID: NAME, MQTT_URL: 'mqtt://h:1883' } })
  await ok(s, { op: 'create' })
  await ok(s, { op: 'check' })
  await ok(s, { op: 'finish' })
  assert.equal(existsSync(join(dir, DONE_LINK)), true)
  rmSync(join(dir, `${NAME}.key.pem`))
  assert.equal(existsSync(join(dir, DONE_LINK)), false, 'a dangling link does not satisfy ConditionPathExists')
  assert.equal(readStatus(dir).finished, false)
})

test('a damaged state file is reported, not guessed around; NO_DNSSEC prints 4 0 0 and the PKIX-CD URL', async () => {
  const { s, dir } = session()
  await ok(s, { op: 'set', values: { DANE_ID: NAME, MQTT_URL: 'mqtt://h:1883', NO_DNSSEC: 'true' } })
  await ok(s, { op: 'create' })
  const t = await ok(s, { op: 'tlsa' })
  assert.match((t.tlsa as string[])[0] ?? '', / IN TLSA 4 0 0 [0-9A-F]+$/)
  assert.match(String(t.pkixCdUrl), /^https:\/\/device\.example\.test\/\.well-known\/ca\/[0-9a-f]{2}(-[0-9a-f]{2})+\.pem$/)
  // the URL's keyid is the certificate's own SKI (self-signed: AKI = SKI), as openssl reads it
  const x = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', join(dir, `${NAME}.crt.pem`)], {
    encoding: 'utf8',
  })
  const ski = (x.stdout.split('\n')[1] ?? '').trim().toLowerCase().replaceAll(':', '-')
  assert.ok(String(t.pkixCdUrl).includes(`/${ski}.pem`), `${t.pkixCdUrl} vs ${ski}`)
  writeFileSync(join(dir, 'provision.json'), '{"v":1,')
  await fails(s, { op: 'status' }, 'ERR_PROVISION')
})

test('only known keys are settable: prototype names (constructor, __proto__, toString, hasOwnProperty) are refused, typed or JSON, and nothing is written', async () => {
  const { s, dir } = session()
  await ok(s, { op: 'set', values: { DANE_ID: NAME } })
  const envBefore = readFileSync(join(dir, 'daneel.env'), 'utf8')
  for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__']) {
    // typed on the console: `set KEY x`
    const typed = parseTextCommand(`set ${key} x`) as Request
    await fails(s, typed, 'ERR_USAGE')
    // a JSON line, both forms
    await fails(s, parseJsonRequest(JSON.stringify({ op: 'set', key, value: 'x' })).req, 'ERR_USAGE')
    const viaValues = (): Request => parseJsonRequest(`{"op":"set","values":{${JSON.stringify(key)}:"x"}}`).req
    await fails(s, viaValues(), 'ERR_USAGE')
  }
  // `{"values":{"__proto__":"x"}}` once parsed into an empty request that answered ok
  assert.deepEqual(Object.keys((parseJsonRequest('{"op":"set","values":{"__proto__":"x"}}').req as { values: object }).values), [
    '__proto__',
  ])
  assert.throws(
    () => parseJsonRequest('{"op":"set","values":{}}'),
    (e) => isDaneelError(e, 'ERR_USAGE'),
  )
  assert.equal(readFileSync(join(dir, 'daneel.env'), 'utf8'), envBefore)
  assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype was touched')
})
