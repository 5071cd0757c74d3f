// Bundles: one minified bundle per entry point, platform node, native modules external. Prints sizes.
import { build } from 'esbuild'
import { statSync } from 'node:fs'

const entries = [{ in: 'build/cli/main.js', out: 'daneel' }]
const result = await build({
  entryPoints: entries.map((e) => ({ in: e.in, out: e.out })),
  outdir: 'dist',
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  external: ['onoff', 'epoll'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
})
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  console.log(`${file}\t${(statSync(file).size / 1024).toFixed(1)} KiB (${out.bytes} bytes)`)
}
