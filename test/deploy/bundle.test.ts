/** The bundles: the device bundle keeps out provisioning/demo/broker code, fits 400 KiB and answers --version; its slimmed MQTT.js still talks to Mosquitto. */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir, repoPath, repoRoot } from '../../testkit/paths.js'

interface BuildConfig {
  deviceOptions: Record<string, unknown>
  DEVICE_FORBIDDEN: RegExp[]
  DEVICE_BUDGET: number
}
type EsbuildResult = {
  metafile: { inputs: Record<string, unknown>; outputs: Record<string, { bytes: number }> }
  outputFiles: Array<{ text: string }>
}
type Build = (o: Record<string, unknown>) => Promise<EsbuildResult>

let cfg: BuildConfig
let build: Build
let tmp: { dir: string; cleanup: () => void }
let broker: Mosquitto | undefined

before(async () => {
  tmp = makeTempDir('daneel-bundle-')
  cfg = (await import(pathToFileURL(repoPath('esbuild.config.mjs')).href)) as BuildConfig
  build = ((await import('esbuild')) as unknown as { build: Build }).build
  broker = await startMosquitto({ dir: join(tmp.dir, 'mosquitto'), persistence: false })
})

after(async () => {
  await broker?.stop()
  tmp.cleanup()
})

/** Bundles `entry` (a repository path) with the device bundle's options, in memory, with its metafile. */
const bundleInMemory = (entry: string, outName: string) =>
  build({
    ...cfg.deviceOptions,
    entryPoints: [repoPath(entry)],
    write: false,
    outdir: join(tmp.dir, outName),
    absWorkingDir: repoRoot,
    logLevel: 'error',
  })

test('device bundle: no provisioning, demo or broker code, within the 400 KiB budget', async () => {
  const r = await bundleInMemory('build/cli/commands/run.js', 'out')
  const inputs = Object.keys(r.metafile.inputs)
  assert.ok(
    inputs.some((p) => p.startsWith('build/device/')),
    'the device code is in it',
  )
  assert.deepEqual(
    inputs.filter((p) => cfg.DEVICE_FORBIDDEN.some((re) => re.test(p))),
    [],
  )
  assert.ok(!inputs.some((p) => /node_modules\/(readable-stream|ws|socks|@noble|lru-cache)\//.test(p)), 'slimmed modules are out')
  const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
  console.log(`# device bundle: ${(bytes / 1024).toFixed(1)} KiB minified, ${inputs.length} modules`)
  assert.ok(bytes <= cfg.DEVICE_BUDGET, `${bytes} bytes`)
  // and the check itself bites: the CLI entry pulls in provisioning and the demo
  const cli = await bundleInMemory('build/cli/main.js', 'out2')
  assert.ok(Object.keys(cli.metafile.inputs).some((p) => cfg.DEVICE_FORBIDDEN.some((re) => re.test(p))))
})

test('MQTT.js bundled with the device settings (node:stream, no ws/socks, lru-cache on a Map) round-trips QoS 1 through Mosquitto', async () => {
  // Topic aliases on (Mosquitto offers 10): 12 topics twice over, so the bundle's LRU (messaging/topic-alias-lru.ts)
  // assigns, reuses and evicts aliases, and every message must still arrive under its own topic.
  const probe = `import mqtt from 'mqtt'
const url = process.argv[2]
const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, autoAssignTopicAlias: true })
const got = []
c.on('error', (e) => { console.log('error ' + e.message); process.exit(3) })
c.on('connect', (ack) => {
  if (!(ack.properties && ack.properties.topicAliasMaximum > 0)) { console.log('no topic aliases offered'); process.exit(5) }
  c.subscribe('daneel/probe/#', { qos: 1 }, (err) => {
    if (err) { console.log('suberr ' + err.message); process.exit(4) }
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 12; i++) c.publish('daneel/probe/' + i, Buffer.from('sealed ' + i), { qos: 1 })
  })
})
c.on('message', (t, p) => {
  got.push(t + '=' + p.toString())
  if (got.length !== 24) return
  console.log(got.sort().join(','))
  c.removeAllListeners('error').on('error', () => {}) // a reset while closing is not the probe's business
  c.end(false, {}, () => process.exit(0))
})
`
  const out = join(tmp.dir, 'probe.js')
  await build({
    ...cfg.deviceOptions,
    stdin: { contents: probe, resolveDir: repoRoot, sourcefile: 'probe.js' },
    entryPoints: undefined,
    outdir: undefined,
    outfile: out,
    absWorkingDir: repoRoot,
  })
  writeFileSync(join(tmp.dir, 'package.json'), '{ "type": "module" }\n')
  const ok = spawnSync(process.execPath, [out, `mqtt://127.0.0.1:${broker?.port}`], { encoding: 'utf8', timeout: 20_000 })
  const want = Array.from({ length: 12 }, (_, i) => `daneel/probe/${i}=sealed ${i}`)
  assert.equal(ok.stdout.trim(), [...want, ...want].sort().join(','), ok.stderr)
  assert.equal(ok.status, 0)
  // a transport that was left out says so plainly instead of failing somewhere inside MQTT.js
  const ws = spawnSync(process.execPath, [out, `ws://127.0.0.1:${broker?.port}`], { encoding: 'utf8', timeout: 20_000 })
  assert.match(`${ws.stdout}${ws.stderr}`, /ws is not in the device bundle/)
})

test('the device bundle, written as dist/daneel-device.js is, prints the version with --version and exits 0', async () => {
  const dist = join(tmp.dir, 'dist')
  mkdirSync(dist, { recursive: true })
  writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n') // as esbuild.config.mjs writes beside it
  await build({
    ...cfg.deviceOptions,
    entryPoints: [{ in: repoPath('build/cli/commands/run.js'), out: 'daneel-device' }],
    outdir: dist,
    absWorkingDir: repoRoot,
    logLevel: 'error',
  })
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }
  const r = spawnSync(process.execPath, [join(dist, 'daneel-device.js'), '--version'], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '' },
  })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, `daneel ${pkg.version}\n`)
})
