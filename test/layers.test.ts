/** The import rules between top folders (testkit/layers.ts, README "Layout"): the tree obeys them, and a planted forbidden import fails. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkImports, LAYERS, readSources } from '../testkit/layers.js'
import { makeTempDir, repoPath, repoRoot } from '../testkit/paths.js'

const tree = readSources(repoRoot)

test('the repository has no forbidden import', () => {
  assert.ok(tree.size > 200, `read only ${tree.size} sources`)
  assert.ok(tree.has('src/errors.ts') && tree.has('messaging/outbox.ts') && tree.has('testkit/layers.ts'))
  const violations = checkImports(tree)
  assert.deepEqual(
    violations.map((v) => v.message),
    [],
  )
})

/** The tree plus one planted file. */
function planted(path: string, text: string): Map<string, string> {
  return new Map([...tree, [path, text]])
}

test('src/ importing device/ fails with the rule in the message', () => {
  const v = checkImports(planted('src/planted.ts', "/** x */\nimport { main } from '../device/runtime.js'\n"))
  assert.equal(v.length, 1)
  assert.equal(v[0]?.file, 'src/planted.ts')
  assert.equal(v[0]?.line, 2)
  assert.equal(
    v[0]?.message,
    'src/planted.ts:2 imports device/runtime.ts: src/ may import only src/ (the protocol core imports nothing above it)',
  )
})

test('device/ importing cli/ fails, also through export-from and a dynamic import', () => {
  for (const text of [
    "import { reportError } from '../cli/main.js'",
    "export { main } from '../cli/main.js'",
    "const m = await import('../cli/main.js')",
    "import type { Parsed } from '../cli/args.js'",
  ]) {
    const v = checkImports(planted('device/planted.ts', text))
    assert.equal(v.length, 1, text)
    assert.match(
      v[0]?.message ?? '',
      /^device\/planted\.ts:1 imports cli\/(main|args)\.ts: device\/ may import only device\/, src\/, sensors\/, messaging\/, settings\//,
    )
  }
})

test('each narrow layer refuses what is above it and accepts what is below', () => {
  const refused: [string, string][] = [
    ['messaging/x.ts', "import '../device/loop.js'"],
    ['messaging/x.ts', "import '../settings/settings.js'"],
    ['settings/x.ts', "import '../cli/args.js'"],
    ['sensors/x.ts', "import '../messaging/outbox.js'"],
    ['provisioning/x.ts', "import '../device/hal-linux/uart.js'"],
    ['provisioning/x.ts', "import '../sensors/pms5003/driver.js'"],
    ['gateway/x.ts', "import '../device/runtime.js'"],
    ['bench/x.ts', "import '../test/layers.test.js'"],
    ['test/x.ts', "import '../bench/seal.js'"],
    ['testkit/x.ts', "import '../test/layers.test.js'"],
    ['src/x.ts', "import '../../outside.js'"],
  ]
  for (const [file, text] of refused) assert.equal(checkImports(new Map([[file, text]])).length, 1, `${file}: ${text}`)
  const accepted: [string, string][] = [
    ['src/dns/x.ts', "import '../errors.js'"],
    ['messaging/x.ts', "import '../src/errors.js'"],
    ['device/x.ts', "import '../messaging/outbox.js'"],
    ['device/x.ts', "import '../settings/settings.js'"],
    ['provisioning/x.ts', "import type { Uart } from '../sensors/hal.js'"],
    ['gateway/x.ts', "import '../messaging/receiver.js'"],
    ['cli/x.ts', "import '../device/runtime.js'"],
    ['bench/x.ts', "import '../testkit/paths.js'"],
    ['test/x.ts', "import '../testkit/paths.js'"],
    ['scripts/x.ts', "import '../cli/main.js'"],
    ['test/x.ts', "import '../gateway/ingest.js'"],
    ['bench/x.ts', "import '../gateway/ingest.js'"],
    ['testkit/x.ts', "import '../gateway/ingest.js'"],
  ]
  for (const [file, text] of accepted) assert.deepEqual(checkImports(new Map([[file, text]])), [], `${file}: ${text}`)
  assert.deepEqual(Object.keys(LAYERS).sort(), [
    'bench',
    'cli',
    'device',
    'gateway',
    'messaging',
    'provisioning',
    'sensors',
    'settings',
    'src',
    'test',
    'testkit',
  ])
})

test('bench/ importing test/ names the shared folder to use instead', () => {
  const v = checkImports(new Map([['bench/x.ts', "import { fixturePath } from '../test/src/dns/lab.test.js'"]]))
  assert.deepEqual(
    v.map((x) => x.message),
    [
      'bench/x.ts:1 imports test/src/dns/lab.test.ts: bench/ may import anything but test/ (benches share helpers with tests through testkit/, not test/)',
    ],
  )
})

test('the command npm pretest runs exits 1 and names the forbidden import in a planted tree', () => {
  const tmp = makeTempDir()
  try {
    mkdirSync(join(tmp.dir, 'src'))
    mkdirSync(join(tmp.dir, 'device'))
    writeFileSync(join(tmp.dir, 'src', 'errors.ts'), "/** planted */\nimport { main } from '../device/main.js'\n")
    writeFileSync(join(tmp.dir, 'device', 'main.ts'), "/** planted */\nimport { run } from '../cli/commands/run.js'\n")
    const r = spawnSync(process.execPath, [repoPath('build/testkit/layers.js'), tmp.dir], { encoding: 'utf8' })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /layers: 2 forbidden import\(s\)/)
    assert.match(r.stderr, /src\/errors\.ts:2 imports device\/main\.ts: src\/ may import only src\//)
    assert.match(r.stderr, /device\/main\.ts:2 imports cli\/commands\/run\.ts: device\/ may import only/)
    const ok = spawnSync(process.execPath, [repoPath('build/testkit/layers.js')], { encoding: 'utf8' })
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /no forbidden imports/)
  } finally {
    tmp.cleanup()
  }
})
