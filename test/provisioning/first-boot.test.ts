/** Unattended first boot (the Balena block): create, print the TLSA record, wait until DNS serves it, then straight through on later starts. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'

const NAME = 'boot1.airquality._device.example.test'
let tmp: { dir: string; cleanup: () => void }
let lab: DnsLab
const running = new Set<ChildProcess>()

before(async () => {
  tmp = makeTempDir('daneel-firstboot-')
  lab = await startDnsLab()
})
after(async () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await lab?.stop()
  tmp?.cleanup()
})

interface Run {
  out: () => string
  exit: Promise<number | null>
  child: ChildProcess
}

function start(cmd: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
  return { out: () => out, exit, child }
}

async function until(run: Run, re: RegExp, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!re.test(run.out())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${run.out()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('first boot: TLSA printed, waits for DNS, then provisioned; later starts do not wait', async () => {
  const crypto = join(tmp.dir, 'crypto')
  const env = { DANE_ID: NAME, CRYPTO_PATH: crypto, DNS_SERVER: lab.server, DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile, NO_DNSSEC: '' }
  // once, without waiting: nothing is published yet
  const once = start(process.execPath, [cliPath, 'provision', '--first-boot', '--no-wait'], env)
  assert.equal(await once.exit, 1)
  const m = new RegExp(`${NAME.replaceAll('.', '\\.')}\\. 300 IN TLSA (3 0 0 [0-9A-F]+)`).exec(once.out())
  assert.ok(m, once.out())
  assert.match(once.out(), /created a p256 identity/)
  // waiting: publish while it waits, and it returns 0
  const wait = start(process.execPath, [cliPath, 'provision', '--first-boot'], env)
  await until(wait, /waiting until DNS serves the matching record/)
  assert.match(wait.out(), /identity boot1\.airquality\._device\.example\.test exists/)
  await lab.setRecords('example.test.', `${NAME}.`, 'TLSA', [m[1] as string])
  assert.equal(await wait.exit, 0, wait.out())
  assert.match(wait.out(), /matches: provisioned/)
  // a restart goes straight through, even with DNS gone
  const again = start(process.execPath, [cliPath, 'provision', '--first-boot'], { ...env, DNS_SERVER: '127.0.0.1:9' })
  assert.equal(await again.exit, 0)
  assert.match(again.out(), /is provisioned/)
})

test('NO_DNSSEC first boot prints the PKIX-CD URL; no DANE_ID is a usage error', async () => {
  const crypto = join(tmp.dir, 'crypto-nodnssec')
  const r = start(process.execPath, [cliPath, 'provision', '--first-boot', '--no-wait', '--key-type', 'rsa2048'], {
    DANE_ID: 'boot2.airquality._device.example.test',
    CRYPTO_PATH: crypto,
    NO_DNSSEC: '1',
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
  })
  await r.exit
  assert.match(r.out(), /created a rsa2048 identity/)
  assert.match(r.out(), /IN TLSA 4 0 0 [0-9A-F]+/)
  assert.match(r.out(), /serve the CA certificate .* at https:\/\/device\.example\.test\/\.well-known\/ca\/[0-9a-f-]+\.pem/)
  const none = start(process.execPath, [cliPath, 'provision', '--first-boot'], { DANE_ID: '', IDENTITY_NAME: '', CRYPTO_PATH: crypto })
  assert.equal(await none.exit, 2)
})

test('balena-start.sh: provisions from the environment, then hands over to the runtime (here: stops at the missing config)', async () => {
  // The image's /opt/daneel, with the two bundles replaced by the compiled entry points.
  const app = join(tmp.dir, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(join(app, 'daneel.js'), `import ${JSON.stringify(repoPath('build/cli/main.js'))}\n`)
  writeFileSync(join(app, 'daneel-device.js'), `import ${JSON.stringify(repoPath('build/cli/commands/run.js'))}\n`)
  const crypto = join(tmp.dir, 'crypto-balena')
  const name = 'boot3.airquality._device.example.test'
  const env = {
    DANEEL_APP: app,
    DANE_ID: name,
    CRYPTO_PATH: crypto,
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    DANEEL_CONFIG: join(tmp.dir, 'none.json'),
    NO_DNSSEC: '',
  }
  const run = start('sh', [repoPath('scripts/balena-start.sh')], env)
  await until(run, /IN TLSA (3 0 0 [0-9A-F]+)/)
  const rdata = /IN TLSA (3 0 0 [0-9A-F]+)/.exec(run.out())?.[1] as string
  await lab.setRecords('example.test.', `${name}.`, 'TLSA', [rdata])
  await until(run, /no device config at/, 60_000)
  assert.match(run.out(), /matches: provisioned/)
  assert.ok(existsSync(join(crypto, 'provisioned.key.pem')))
  run.child.kill('SIGTERM') // the script exec'd `sleep infinity` in its own PID
  await run.exit
  // the config as a variable: written to DANEEL_CONFIG and handed to the runtime, which validates it (here: rejects
  // it, naming the field, exit 2), proving the hand-over; provisioning is not repeated; the script then says so once
  // and waits instead of exiting into a restart loop
  const withConfig = start('sh', [repoPath('scripts/balena-start.sh')], {
    ...env,
    DANEEL_CONFIG_JSON: '{"version":1,"recipients":[]}',
    DANEEL_WAITING: join(tmp.dir, 'waiting'),
  })
  await until(withConfig, /refused its config or settings/)
  assert.match(withConfig.out(), /is provisioned/)
  assert.match(withConfig.out(), /ERR_CONFIG_INVALID/)
  assert.ok(existsSync(join(tmp.dir, 'waiting')), 'waiting on purpose: the healthcheck passes')
  withConfig.child.kill('SIGTERM') // the script exec'd `sleep infinity`
  await withConfig.exit
  assert.equal(readFileSync(join(tmp.dir, 'none.json'), 'utf8'), '{"version":1,"recipients":[]}\n')
  const noName = start('sh', [repoPath('scripts/balena-start.sh')], { ...env, DANE_ID: '' })
  await until(noName, /set DANE_ID/)
  noName.child.kill('SIGTERM')
  await noName.exit
})
