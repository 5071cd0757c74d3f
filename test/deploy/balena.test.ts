/** The Balena block, checked statically (no Docker here): balena.yml, docker-compose.yml, Dockerfile, the entry script. */

import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { makeTempDir, repoPath } from '../../testkit/paths.js'
import { lintBalenaYml, lintCompose, lintDockerfile } from './balena-lint.js'

const read = (p: string): string => readFileSync(repoPath(p), 'utf8')
const hasDockerfile = (ctx: string): boolean =>
  existsSync(join(repoPath(ctx), 'Dockerfile')) || existsSync(join(repoPath(ctx), 'Dockerfile.template'))

/** The environment contract (docs/contract.md "Environment") the service must expose. */
const CONTRACT_ENV = [
  'DANE_ID',
  'CRYPTO_PATH',
  'APP_UID',
  'NO_DNSSEC',
  'MQTT_URL',
  'TRUSTED_DOMAINS',
  'MAX_MESSAGE_SIZE',
  'DANEEL_STATE',
  'DNS_SERVER',
  'DNSSEC_TRUST_ANCHORS',
  'DNSSEC',
]

test('docker-compose.yml: the Balena subset, a named identity volume, the contract env vars', () => {
  const text = read('docker-compose.yml')
  assert.deepEqual(lintCompose(text, hasDockerfile), [])
  const doc = parse(text) as {
    volumes: Record<string, unknown>
    services: Record<string, { volumes: string[]; environment: Record<string, unknown> }>
  }
  assert.ok('identity' in doc.volumes)
  const svc = Object.values(doc.services)[0]
  assert.ok(svc !== undefined)
  assert.ok(svc.volumes.some((v) => v.startsWith('identity:')))
  for (const k of CONTRACT_ENV) assert.ok(k in svc.environment, `environment lacks ${k}`)
  const crypto = String(svc.environment.CRYPTO_PATH)
  const mount = svc.volumes.find((v) => v.startsWith('identity:'))?.split(':')[1] ?? ''
  assert.ok(crypto.startsWith(`${mount}/`), 'CRYPTO_PATH must be on the identity volume')
})

test('docker-compose.yml: the gateway service, its own volume with store and identity, its entry script in the image', () => {
  const doc = parse(read('docker-compose.yml')) as {
    volumes: Record<string, unknown>
    services: Record<string, { command?: string; volumes: string[]; devices?: unknown; environment: Record<string, unknown> }>
  }
  const gw = doc.services.gateway
  assert.ok(gw !== undefined, 'no gateway service')
  assert.equal(gw.command, '/opt/daneel/balena-gateway.sh')
  assert.equal(gw.devices, undefined, 'the gateway needs no devices')
  assert.ok('gateway' in doc.volumes)
  assert.deepEqual(gw.volumes, ['gateway:/data'])
  for (const k of [...CONTRACT_ENV.filter((k) => k !== 'APP_UID'), 'DANEEL_STORE', 'DANEEL_HTTP', 'DANEEL_HTTP_TOKEN'])
    assert.ok(k in gw.environment, `gateway environment lacks ${k}`)
  assert.match(String(gw.environment.DANEEL_STORE), /^sqlite:\/data\//, 'the store on the gateway volume')
  assert.match(String(gw.environment.DANEEL_HTTP), /^127\.0\.0\.1:/, 'loopback unless a token is set')
  assert.match(read('Dockerfile'), /COPY scripts\/balena-gateway\.sh \.\/balena-gateway\.sh/)
  assert.match(read('Dockerfile'), /better-sqlite3/, 'the native SQLite driver is copied beside the bundle')
  const path = repoPath('scripts/balena-gateway.sh')
  assert.ok((statSync(path).mode & 0o111) !== 0, 'not executable')
  assert.equal(spawnSync('sh', ['-n', path], { encoding: 'utf8' }).status, 0)
  assert.match(read('scripts/balena-gateway.sh'), /exec node .*daneel\.js" gateway/)
})

test('the compose linter rejects what balenaOS rejects', () => {
  const base = read('docker-compose.yml')
  const cases: Array<[string, RegExp]> = [
    [base.replace("'identity:/data'", "'/var/lib/daneel:/data'"), /bind mount/],
    [base.replace("'identity:/data'", "'./data:/data'"), /bind mount/],
    [base.replace("'identity:/data'", "'other:/data'"), /not declared/],
    [base.replace("version: '2.4'", "version: '3.8'"), /version/],
    [base.replace('    restart: always', '    restart: always\n    container_name: x'), /container_name/],
    [base.replace('    restart: always', '    restart: always\n    privileged: true'), /privileged/],
    [base.replace("DANE_ID: ''", `DANE_ID: ${'$'}{DANE_ID}`), /substitution/],
    [base.replace('download-then-kill', 'x\n      io.balena.features.sysfs: 1'), /host access/],
    [base.replace('build: .', 'build: ./nowhere'), /no Dockerfile/],
  ]
  for (const [text, re] of cases) assert.match(lintCompose(text, hasDockerfile).join('\n'), re)
})

test('balena.yml: required fields, semver, device types', () => {
  const text = read('balena.yml')
  assert.deepEqual(lintBalenaYml(text), [])
  assert.match(lintBalenaYml(text.replace('type: sw.block', 'type: block')).join(), /type/)
  assert.match(lintBalenaYml(text.replace('version: 0.1.0', 'version: 1.0')).join(), /semver/)
  assert.match(
    lintBalenaYml(text.replace('defaultDeviceType: raspberrypi4-64', 'defaultDeviceType: intel-nuc')).join(),
    /defaultDeviceType/,
  )
  assert.match(lintBalenaYml(text.replace("'https://github.com", "'http://github.com")).join(), /https/)
})

test('Dockerfile: Node >= 20.19 slim multi-arch base, non-root, two stages, the bundles', () => {
  const text = read('Dockerfile')
  assert.deepEqual(lintDockerfile(text), [])
  assert.match(text, /npm run build/)
  assert.match(text, /balena-start\.sh/)
  assert.equal((text.match(/^FROM /gm) ?? []).length, 2)
  assert.match(lintDockerfile(text.replace('USER node', 'USER root')).join(), /non-root/)
  assert.match(lintDockerfile(text.replace('ARG NODE_VERSION=22', 'ARG NODE_VERSION=18')).join(), /older than Node 20.19/)
  assert.match(lintDockerfile(text.replace('ARG NODE_VERSION=22', 'ARG NODE_VERSION=20.11')).join(), /older than Node 20.19/)
  // every COPY source from the build context exists (a missing one fails the image build on the builder)
  for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const src of (m[1] ?? '').split(/\s+/)) assert.ok(existsSync(repoPath(src)), `COPY source ${src} missing`)
  }
  // .dockerignore keeps the host's node_modules (wrong arch) out of the context
  assert.match(read('.dockerignore'), /^node_modules$/m)
})

test('entry script: valid sh, executable, provisions then execs the runtime bundle', () => {
  const path = repoPath('scripts/balena-start.sh')
  assert.ok((statSync(path).mode & 0o111) !== 0, 'not executable')
  const r = spawnSync('sh', ['-n', path], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const text = read('scripts/balena-start.sh')
  assert.match(text, /provision --first-boot/)
  assert.match(text, /node .*daneel-device\.js/)
})

test('devices: the ports the examples name are mapped (USB serial as the commented opt-in, never by default); the free UART and the BME280 overlay are configured per Pi model', () => {
  const doc = parse(read('docker-compose.yml')) as {
    services: Record<string, { devices: string[]; environment: Record<string, unknown>; healthcheck?: { test: string[] } }>
  }
  const svc = Object.values(doc.services)[0]
  assert.ok(svc !== undefined)
  const mapped = new Set(svc.devices.map((d) => d.split(':')[1]))
  // Docker refuses to start a service whose mapped device is missing: nothing hot-pluggable is mapped by default.
  const pluggable = /^\/dev\/tty(USB|ACM)\d+$/
  assert.deepEqual(
    [...mapped].filter((d) => pluggable.test(d ?? '')),
    [],
    'a USB serial device mapped by default stops the container on every node without one',
  )
  // A port the examples name is mapped, or, for a USB adapter, offered as the commented opt-in line.
  const compose = read('docker-compose.yml')
  for (const ex of ['examples/airquality-pi.json', 'examples/sds011-minimal.json', 'examples/valimail-two-recipients.json']) {
    const cfg = JSON.parse(read(ex)) as { sensors: Array<{ port?: string }> }
    for (const s of cfg.sensors) {
      if (s.port === undefined) continue
      if (pluggable.test(s.port)) assert.ok(compose.includes(`# - '${s.port}:${s.port}'`), `${ex}: ${s.port} has no opt-in line`)
      else assert.ok(mapped.has(s.port), `${ex}: ${s.port} is not mapped`)
    }
  }
  assert.ok(mapped.has('/dev/i2c-1'))
  // Pi 3/4/Zero 2 W: the PL011 (ttyAMA0) drives Bluetooth unless disable-bt; Pi 5: UART0 on GPIO 14/15 needs uart0=on.
  const cfgVars = Object.assign(
    {},
    ...(parse(read('balena.yml')) as { data: { applicationConfigVariables: object[] } }).data.applicationConfigVariables,
  )
  const overlays = String(cfgVars.BALENA_HOST_CONFIG_dtoverlay)
  assert.match(overlays, /"disable-bt"/)
  assert.match(overlays, /"i2c-sensor,bme280"/, 'the kernel BME280 driver (IIO) is loaded by the i2c-sensor overlay')
  assert.match(String(cfgVars.BALENA_HOST_CONFIG_dtparam), /"uart0=on"/)
  assert.match(String(cfgVars.BALENA_HOST_CONFIG_dtparam), /"i2c_arm=on"/)
  assert.equal(String(cfgVars.BALENA_HOST_CONFIG_enable_uart), '1')
  // The healthcheck reads the heartbeat the runtime writes where the environment says.
  const hc = svc.healthcheck?.test.join(' ') ?? ''
  assert.match(hc, /daneel-waiting/)
  assert.ok(hc.includes(String(svc.environment.DANEEL_HEARTBEAT)), 'healthcheck and DANEEL_HEARTBEAT name the same file')
})

/** Runs the entry script with stand-ins for the bundles (plain node scripts) and for `sleep`. */
function entry(device: string, extraEnv: Record<string, string> = {}) {
  const { dir, cleanup } = makeTempDir('daneel-entry-')
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  writeFileSync(join(dir, 'daneel.js'), 'process.exit(0)\n') // provisioned already
  writeFileSync(join(dir, 'daneel-device.js'), device)
  // `sleep infinity` stands for waiting: the stand-in says so and returns, so the test can see it.
  writeFileSync(join(bin, 'sleep'), '#!/bin/sh\necho "SLEEP $*"\n', { mode: 0o755 })
  writeFileSync(join(dir, 'device.json'), '{}\n')
  // As the block's app user, never root: started as root the script first hands an identity volume over
  // (adopt-identity.sh, tested in test/cli/legacy-cli.test.ts) and drops privileges, which is not under test here.
  const asApp = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : {}
  chmodSync(dir, 0o777)
  const child = spawn('sh', [repoPath('scripts/balena-start.sh')], {
    ...asApp,
    env: {
      PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
      DANE_ID: 'n1._device.example.com',
      DANEEL_APP: dir,
      CRYPTO_PATH: join(dir, 'crypto'),
      DANEEL_CONFIG: join(dir, 'device.json'),
      DANEEL_WAITING: join(dir, 'waiting'),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  const exit = new Promise<number | null>((r) => child.once('exit', r))
  return { child, out: () => out, exit, dir, cleanup }
}

test('entry script: a config the runtime refuses (exit 2) ends in one message and a wait, not a restart loop', async (t) => {
  const e = entry("process.stderr.write('daneel: config field sensors[0].port: is required [ERR_CONFIG_INVALID]\\n'); process.exit(2)\n")
  t.after(e.cleanup)
  assert.equal(await e.exit, 0, e.out())
  assert.match(e.out(), /ERR_CONFIG_INVALID/)
  assert.match(e.out(), /daneel: the runtime refused its config or settings .*; waiting/)
  assert.match(e.out(), /SLEEP infinity/)
  assert.ok(existsSync(join(e.dir, 'waiting')), 'the healthcheck sees a deliberate wait')
})

test("entry script: SIGTERM reaches the runtime (it drains) and its exit status is the container's", async (t) => {
  const e = entry(
    "process.on('SIGHUP', () => console.log('reloaded')); process.on('SIGTERM', () => { console.log('drained'); process.exit(0) }); console.log('up'); setInterval(() => {}, 1000)\n",
  )
  t.after(e.cleanup)
  for (let i = 0; i < 200 && !e.out().includes('up'); i++) await new Promise((r) => setTimeout(r, 25))
  assert.equal(existsSync(join(e.dir, 'waiting')), false, 'a running runtime answers for its own health')
  e.child.kill('SIGHUP')
  for (let i = 0; i < 200 && !e.out().includes('reloaded'); i++) await new Promise((r) => setTimeout(r, 25))
  e.child.kill('SIGTERM')
  assert.equal(await e.exit, 0, e.out())
  assert.match(e.out(), /reloaded[\s\S]*drained/)
  assert.doesNotMatch(e.out(), /SLEEP/)
})
