/** systemd units: `systemd-analyze verify` with no output at all, and `systemd-analyze security --offline` ≤ 2.5 for the runtime. */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const unitsDir = repoPath('systemd')
const units = readdirSync(unitsDir)
  .filter((f) => /\.(service|timer)$/.test(f))
  .sort()
let tmp: { dir: string; cleanup: () => void }

before(() => {
  tmp = makeTempDir('daneel-units-')
  // verify fails when ExecStart's binary does not exist. The units name /usr/bin/node (NodeSource and Debian put it
  // there); where this machine's node lives elsewhere, the temp copy points at it instead. Nothing else changes.
  for (const u of units) {
    const text = readFileSync(join(unitsDir, u), 'utf8')
    if (existsSync('/usr/bin/node')) copyFileSync(join(unitsDir, u), join(tmp.dir, u))
    else writeFileSync(join(tmp.dir, u), text.replaceAll('/usr/bin/node', process.execPath))
  }
})
after(() => tmp.cleanup())

test('the unit set is what docs/deploy.md describes', () => {
  assert.deepEqual(units, [
    'daneel-gateway.service',
    'daneel-monitor.service',
    'daneel-monitor.timer',
    'daneel-provision.service',
    'daneel-retry.timer',
    'daneel.service',
  ])
})

test("every unit's Documentation= is installed: a file the build copies to /opt/daneel, or a URL", async () => {
  const { INSTALLED_DOCS } = (await import(pathToFileURL(repoPath('esbuild.config.mjs')).href)) as { INSTALLED_DOCS: string[] }
  let seen = 0
  for (const u of units) {
    const docs = [...readFileSync(join(unitsDir, u), 'utf8').matchAll(/^Documentation=(.+)$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/))
    assert.ok(docs.length > 0, `${u} has no Documentation=`)
    for (const d of docs) {
      seen++
      const installed = /^file:\/opt\/daneel\/(.+)$/.exec(d)?.[1]
      if (installed === undefined) {
        assert.match(d, /^(https:|man:)/, `${u}: ${d} is neither an installed file nor a URL or manpage`)
        continue
      }
      assert.ok(INSTALLED_DOCS.includes(installed), `${u}: ${installed} is not in esbuild.config.mjs INSTALLED_DOCS`)
      assert.ok(existsSync(repoPath(installed)), `${u}: ${installed} is not in the repository`)
    }
  }
  assert.ok(seen >= units.length)
})

test('systemd-analyze verify: every unit, no warnings (any stderr fails)', () => {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => `./${u}`)], { cwd: tmp.dir, encoding: 'utf8' })
  assert.equal(r.error, undefined, String(r.error))
  assert.equal(`${r.stdout}${r.stderr}`, '', 'systemd-analyze verify printed something')
  assert.equal(r.status, 0)
})

test('verify is a real check: an unknown key or a missing binary is caught', () => {
  const text = readFileSync(join(tmp.dir, 'daneel.service'), 'utf8')
  writeFileSync(
    join(tmp.dir, 'broken.service'),
    text.replace('[Service]', '[Service]\nMemoryDenyWriteExecutes=yes').replace(/ExecStart=\S+/, 'ExecStart=/nonexistent/node'),
  )
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', './broken.service', './daneel-provision.service', './daneel-retry.timer'], {
    cwd: tmp.dir,
    encoding: 'utf8',
  })
  assert.match(r.stderr, /Unknown key/)
  assert.match(r.stderr, /not executable|No such file/)
})

function exposure(unit: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', `./${unit}`], { cwd: tmp.dir, encoding: 'utf8' })
  const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout)
  assert.ok(m, `no exposure level in: ${r.stdout.slice(-300)} ${r.stderr}`)
  return Number(m[1])
}

test('systemd-analyze security --offline: daneel.service and daneel-gateway.service at 2.5 or below (printed)', () => {
  for (const u of units.filter((x) => x.endsWith('.service'))) {
    const level = exposure(u)
    console.log(`# systemd-analyze security --offline=yes ${u}: ${level}`)
    if (u === 'daneel.service' || u === 'daneel-gateway.service') assert.ok(level <= 2.5, `${u} exposure ${level} > 2.5`)
    else assert.ok(level <= 3.0, `${u} exposure ${level}`)
  }
})

test('the gateway unit: the CLI bundle, state under StateDirectory, no JIT-killing MemoryDenyWriteExecute', () => {
  const t = readFileSync(join(unitsDir, 'daneel-gateway.service'), 'utf8')
  assert.match(t, /^ExecStart=\/usr\/bin\/node .*\/opt\/daneel\/daneel\.js gateway$/m)
  assert.match(t, /^StateDirectory=daneel-gateway$/m)
  assert.match(t, /^Restart=always$/m)
  assert.doesNotMatch(t, /^MemoryDenyWriteExecute=yes/m)
})

test('the runtime unit keeps what Node and GPIO need', () => {
  const t = readFileSync(join(unitsDir, 'daneel.service'), 'utf8')
  const directive = (k: string): string[] => [...t.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => (m[1] ?? '').trim())
  // MemoryDenyWriteExecute aborts V8 at isolate init; ProtectKernelTunables makes sysfs GPIO read-only;
  // PrivateDevices hides gpiochip/tty/i2c.
  assert.deepEqual(directive('MemoryDenyWriteExecute'), [])
  assert.deepEqual(directive('ProtectKernelTunables'), [])
  assert.deepEqual(directive('PrivateDevices'), [])
  assert.deepEqual(directive('NoNewPrivileges'), ['yes'])
  assert.deepEqual(directive('ProtectSystem'), ['strict'])
  assert.deepEqual(directive('CapabilityBoundingSet'), [''])
  assert.deepEqual(directive('SupplementaryGroups'), ['gpio dialout i2c'])
  assert.deepEqual(directive('DevicePolicy'), ['closed'])
  assert.deepEqual(directive('DeviceAllow').sort(), ['char-gpiochip rw', 'char-i2c rw', 'char-ttyAMA rw', 'char-ttyS rw', 'char-ttyUSB rw'])
  assert.deepEqual(directive('StateDirectory'), ['daneel'])
  // the watchdog: device/watchdog.ts pings through systemd-notify, a child process, hence NotifyAccess=all
  assert.deepEqual(directive('Type'), ['notify'])
  assert.deepEqual(directive('NotifyAccess'), ['all'])
  assert.match(directive('WatchdogSec')[0] ?? '', /^\d+s$/)
  assert.match(directive('ExecStart')[0] ?? '', /--max-old-space-size=\d+/)
  assert.ok(directive('EnvironmentFile').includes('-/var/lib/daneel/crypto/daneel.env'))
  // ProcSubset=pid hides /proc/sys/kernel/random/boot_id: the unit hands the boot id over (device/held-store.ts)
  assert.deepEqual(directive('ProcSubset'), ['pid'])
  assert.ok(directive('Environment').includes('DANEEL_BOOT_ID=%b'))
  const prov = readFileSync(join(unitsDir, 'daneel-provision.service'), 'utf8')
  assert.match(prov, /^ConditionPathExists=!\/var\/lib\/daneel\/crypto\/provisioned\.key\.pem$/m)
  assert.match(prov, /^Type=oneshot$/m)
  assert.match(prov, /^Before=daneel\.service$/m)
  // OnSuccess= fires when the unit goes inactive: with RemainAfterExit=yes it never would
  assert.match(prov, /^OnSuccess=daneel\.service$/m)
  assert.doesNotMatch(prov, /^RemainAfterExit=yes$/m)
  assert.match(t, /^ConditionPathExists=\/var\/lib\/daneel\/crypto\/provisioned\.key\.pem$/m)
})
