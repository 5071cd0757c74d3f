// Bundles (run by `npm run build` after tsc): one minified ESM bundle per entry point, platform node, native
// modules external. Checks the device bundle's metafile (no provisioning, demo or broker code in it), prints the
// bundle sizes and their cold-start times. Output: dist/daneel.js (the CLI), dist/daneel-device.js (the runtime),
// dist/package.json ({"type":"module"}, so the .js bundles load as ESM wherever dist/ is copied, e.g. /opt/daneel).
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'

/** Natives esbuild cannot bundle (".node" files, `bindings` lookups): shipped beside the bundle in node_modules. */
const NATIVE = ['onoff', 'epoll', 'serialport', '@serialport/*', 'unix-dgram', 'sd-notify', 'node-libgpiod']
/** Must never reach the device: provisioning runs once from the CLI, the demo and its embedded broker never. */
const DEVICE_FORBIDDEN = [/^build\/provisioning\//, /^build\/cli\/demo\//, /^build\/cli\/commands\/demo/, /node_modules\/aedes/, /node_modules\/aedes-/]
/** The issue's budget for the device bundle (minified, natives excluded). */
const DEVICE_BUDGET = 400 * 1024

const entries = [
  { in: 'build/cli/main.js', out: 'daneel', device: false },
  { in: 'build/device/main.js', out: 'daneel-device', device: true },
]

const common = {
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

mkdirSync('dist', { recursive: true })
writeFileSync('dist/package.json', '{ "type": "module" }\n')

let failed = false
const rows = []
for (const e of entries) {
  if (!existsSync(e.in)) {
    // device/main.ts is written by another area; until it exists the CLI bundle is still built and checked.
    console.log(`esbuild: skipping ${e.out}: ${e.in} does not exist yet (write ${e.in.replace(/^build\//, '').replace(/\.js$/, '.ts')} and run tsc)`)
    continue
  }
  const result = await build({ ...common, entryPoints: [{ in: e.in, out: e.out }] })
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
  rows.push({ file, bytes, inputs: inputs.length, args: e.device ? ['--help'] : ['--version'] })
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
console.log(`bundle                   size (minified)   modules   cold start (node ${process.version}, median of 7; bare node -e 0: ${base.toFixed(0)} ms)`)
for (const r of rows) {
  const cs = coldStart(r.file, r.args)
  const start = Number.isNaN(cs.ms) ? `failed (exit ${cs.status})` : `${cs.ms.toFixed(0)} ms (${r.args.join(' ')})`
  console.log(`${r.file.padEnd(24)} ${`${(r.bytes / 1024).toFixed(1)} KiB`.padStart(12)}   ${String(r.inputs).padStart(7)}   ${start}`)
}
if (failed) process.exit(1)
