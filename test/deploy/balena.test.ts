/** The Balena block, checked statically (no Docker here): balena.yml, docker-compose.yml, Dockerfile, the entry script. */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { repoPath } from '../../testkit/paths.js'
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
  assert.match(text, /exec node .*daneel-device\.js/)
})
