// Runs every compiled test (build/test/**/*.test.js) with node:test. Node 20's --test takes no globs, so list them here.
// Usage: node scripts/run-tests.mjs [filter...]   (filters are substrings of the test path)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const dir = join(root, 'build/test')
const files = []
;(function walk(d) {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js')) files.push(p)
  }
})(dir)
const filters = process.argv.slice(2)
const chosen = filters.length === 0 ? files : files.filter((f) => filters.some((s) => relative(root, f).includes(s)))
if (chosen.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...chosen], { stdio: 'inherit', cwd: root })
process.exit(res.status ?? 1)
