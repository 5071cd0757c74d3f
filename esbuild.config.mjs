// Bundles (run by `npm run build` after tsc): one minified ESM bundle per entry point, platform node, native
// modules external. Checks the device bundle's metafile (no provisioning, demo or broker code in it), prints the
// bundle sizes and their cold-start times. Output: dist/daneel.js (the CLI), dist/daneel-device.js (the runtime),
// dist/package.json ({"type":"module"}, so the .js bundles load as ESM wherever dist/ is copied, e.g. /opt/daneel).
// Also copies INSTALLED_DOCS into dist/ (the systemd units' Documentation= names /opt/daneel/docs/deploy.md).

import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'

/** Natives esbuild cannot bundle (".node" files, `bindings` lookups): shipped beside the bundle in node_modules. */
const NATIVE = ['onoff', 'epoll', 'serialport', '@serialport/*', 'unix-dgram', 'sd-notify', 'node-libgpiod', 'better-sqlite3']
/**
 * Must never reach the device: provisioning runs once from the CLI, the demo and its embedded broker never, and
 * the gateway (with its SQLite driver, a native module) is the receiving side's.
 */
export const DEVICE_FORBIDDEN = [
  /^build\/provisioning\//,
  /^build\/gateway\//,
  /^build\/cli\/commands\/gateway/,
  /node_modules\/better-sqlite3/,
  /^build\/cli\/demo\//,
  /^build\/cli\/commands\/demo/,
  /node_modules\/aedes/,
  /node_modules\/aedes-/,
]
/** The dashboard's own files (gateway/dashboard), copied to dist/dashboard. */
export const DASHBOARD_FILES = ['index.html', 'app.js', 'style.css']
/** Documents installed with the bundles (dist/ is copied to /opt/daneel): what the units' Documentation= names. */
export const INSTALLED_DOCS = ['docs/deploy.md', 'docs/gateway.md']
/** The budget for the device bundle (minified, natives excluded). */
export const DEVICE_BUDGET = 400 * 1024

export const entries = [
  { in: 'build/cli/main.js', out: 'daneel', device: false },
  { in: 'build/cli/commands/run.js', out: 'daneel-device', device: true },
  // the gateway's open worker threads load it by file (gateway/open-workers.ts): an entry of its own, sharing chunks
  { in: 'build/gateway/open-worker.js', out: 'daneel-open-worker', device: false, worker: true },
]

/**
 * Left out of the device bundle. Modules MQTT.js loads eagerly but a device never uses: `ws` (WebSocket transport), `socks` (+ ip-address,
 * smart-buffer: SOCKS proxies), `worker-timers` (+ @babel/runtime, broker-factory: browser web workers). About
 * 150 KB minified. In the device bundle they are replaced by a stub that throws a clear error if ever called,
 * so MQTT_URL must be mqtt:// or mqtts:// there (the CLI bundle keeps them all).
 */
const DEVICE_ABSENT = ['ws', 'socks', 'worker-timers']
const absentPlugin = {
  name: 'daneel-absent',
  setup(b) {
    // readable-stream 4 is a copy of node:stream (78 KB minified, plus abort-controller and event-target-shim);
    // its own READABLE_STREAM=disable mode re-exports node:stream, but esbuild cannot drop the dead branch's
    // require()s, so resolve it to exactly that re-export. MQTT.js and bl use Readable/Writable/Duplex/Transform.
    b.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'readable-stream', namespace: 'daneel-stream' }))
    b.onLoad({ filter: /.*/, namespace: 'daneel-stream' }, () => ({
      loader: 'js',
      contents: `const S = require('node:stream')
for (const k of ['Readable', 'Writable', 'Duplex', 'Transform', 'PassThrough', 'Stream', 'pipeline', 'finished', 'addAbortSignal', 'destroy', 'compose', 'isDisturbed', 'isErrored', 'isReadable', 'promises', '_uint8ArrayToBuffer', '_isUint8Array']) exports[k] = S[k]`,
    }))
    // lru-cache (16.7 KB minified) serves only MQTT.js's topic-alias-send: a Map does that (messaging/topic-alias-lru.ts).
    b.onResolve({ filter: /^lru-cache$/ }, () => ({ path: resolve('build/messaging/topic-alias-lru.js') }))
    b.onResolve({ filter: new RegExp(`^(${DEVICE_ABSENT.join('|')})$`) }, (a) => ({ path: a.path, namespace: 'daneel-absent' }))
    // The pure-JS noble provider (@noble/curves, hashes, ciphers: ~70 KB) exists for runtimes without OpenSSL; the
    // device bundle runs on Node, whose node:crypto provider is the default. DANEEL_CRYPTO=noble there fails with
    // a clear message (the CLI bundle, `daneel run`, keeps it).
    b.onResolve({ filter: /^\.\/noble\.js$/ }, (a) =>
      a.importer.endsWith('/src/crypto/get-provider.js') ? { path: 'noble-provider', namespace: 'daneel-absent' } : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'daneel-absent' }, (a) => {
      const why = JSON.stringify(
        `daneel-device: ${a.path} is not in the device bundle (${a.path === 'noble-provider' ? 'use DANEEL_CRYPTO=node' : 'use mqtt:// or mqtts://'})`,
      )
      if (a.path === 'noble-provider') {
        // ESM, so `import { nobleProvider }` binds; using the provider in any way throws the message.
        return { loader: 'js', contents: `export const nobleProvider = new Proxy({}, { get() { throw new Error(${why}) } })` }
      }
      // CommonJS for MQTT.js's require(): any property chain resolves to the stub; calling or constructing throws.
      return {
        loader: 'js',
        contents: `const fail = () => { throw new Error(${why}) }
const stub = new Proxy(function () {}, { get: (_, k) => (k === '__esModule' ? false : k === 'then' ? undefined : stub), apply: fail, construct: fail })
module.exports = stub`,
      }
    })
  },
}

export const common = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outdir: 'dist',
  external: NATIVE,
  // Bundled CommonJS dependencies (mqtt's) call require(); ESM output needs one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
}

/**
 * The CLI keeps its commands lazy: cli/main.ts loads `./commands/${name}.js` with import(), and with code
 * splitting each command becomes a chunk loaded only when run, so `daneel --version` does not evaluate the demo,
 * the monitor and the broker (the unbundled tsc output has that property for free; a single file would lose it).
 */
export const cliOptions = { ...common, splitting: true, chunkNames: 'chunks/[name]-[hash]' }

/** Options for the device bundle (also used by test/deploy to bundle a probe with the same settings). */
export const deviceOptions = { ...common, plugins: [absentPlugin] }

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) await main()

async function main() {
  mkdirSync('dist', { recursive: true })
  rmSync('dist/chunks', { recursive: true, force: true })
  writeFileSync('dist/package.json', '{ "type": "module" }\n')
  for (const doc of INSTALLED_DOCS) {
    mkdirSync(dirname(join('dist', doc)), { recursive: true })
    copyFileSync(doc, join('dist', doc))
  }
  // The gateway's dashboard and uPlot beside the CLI bundle (gateway/http/static.ts looks in dist/dashboard and
  // dist/dashboard/vendor when no uplot package is installed next to it).
  mkdirSync('dist/dashboard/vendor', { recursive: true })
  for (const f of DASHBOARD_FILES) copyFileSync(join('gateway/dashboard', f), join('dist/dashboard', f))
  for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(join('node_modules/uplot/dist', f), join('dist/dashboard/vendor', f))

  let failed = false
  const rows = []
  for (const e of entries) {
    if (!existsSync(e.in)) {
      // an entry not compiled yet: the other bundle is still built and checked.
      console.log(
        `esbuild: skipping ${e.out}: ${e.in} does not exist yet (write ${e.in.replace(/^build\//, '').replace(/\.js$/, '.ts')} and run tsc)`,
      )
      continue
    }
    let result
    try {
      result = await build({ ...(e.device ? deviceOptions : cliOptions), entryPoints: [{ in: e.in, out: e.out }] })
    } catch {
      // esbuild has printed the errors with their locations; carry on so the other bundle is still reported.
      failed = true
      console.error(`esbuild: ${e.out} failed to bundle (errors above)`)
      continue
    }
    const inputs = Object.keys(result.metafile.inputs)
    if (e.device) {
      const bad = inputs.filter((p) => DEVICE_FORBIDDEN.some((re) => re.test(p)))
      if (bad.length > 0) {
        failed = true
        console.error(`esbuild: the device bundle must not contain provisioning, demo or broker code, but includes:\n  ${bad.join('\n  ')}`)
      }
    }
    const file = `dist/${e.out}.js`
    const bytes = statSync(file).size
    if (e.device && bytes > DEVICE_BUDGET) {
      failed = true
      console.error(`esbuild: ${file} is ${bytes} bytes, over the ${DEVICE_BUDGET}-byte budget`)
    }
    const total = Object.entries(result.metafile.outputs).reduce((n, [, o]) => n + o.bytes, 0)
    if (e.worker) continue // not a command: no cold start to time
    rows.push({ file, bytes, total, inputs: inputs.length, args: e.device ? ['--help'] : ['provision', '--help'], unbundled: e.in })
  }

  /** Median wall time of `node FILE ARGS` over n runs: the cold start a unit pays on every (re)start. */
  function coldStart(file, args, n = 7) {
    const times = []
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint()
      const r = spawnSync(process.execPath, [file, ...args], { stdio: 'ignore' })
      times.push(Number(process.hrtime.bigint() - t0) / 1e6)
      if (r.status !== 0 && r.status !== 2) return { ms: NaN, status: r.status }
    }
    times.sort((a, b) => a - b)
    return { ms: times[Math.floor(n / 2)], status: 0 }
  }

  const base = coldStart('-e', ['0']).ms
  const fmt = (cs) => (Number.isNaN(cs.ms) ? `failed (exit ${cs.status})` : `${cs.ms.toFixed(0)} ms`)
  console.log(
    `cold start: node ${process.version}, median of 7 runs; bare \`node -e 0\`: ${base.toFixed(0)} ms; the peer is the same entry unbundled (tsc output)`,
  )
  console.log('bundle                   entry KiB   with chunks   modules   cold start                   unbundled (build/)')
  for (const r of rows) {
    const start = `${fmt(coldStart(r.file, r.args))} (${r.args.join(' ')})`
    const peer = fmt(coldStart(r.unbundled, r.args))
    const kib = (n) => (n / 1024).toFixed(1).padStart(9)
    console.log(`${r.file.padEnd(24)} ${kib(r.bytes)}   ${kib(r.total)}     ${String(r.inputs).padStart(5)}   ${start.padEnd(28)} ${peer}`)
  }
  if (failed) process.exit(1)
}
