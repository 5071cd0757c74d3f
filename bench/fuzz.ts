/** bench:fuzz — the long opener fuzz run (default 100,000 cases per provider): never a crash, never a modified message accepted. */
import fc from 'fast-check'
import { getProvider } from '../src/crypto/get-provider.js'
import { buildCorpus, openerProperty } from '../testkit/fuzz-target.js'

// Usage: npm run bench:fuzz [-- --runs N] [--provider node|noble|both] [--seed S] [--json]
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const runs = Number(arg('runs') ?? 100_000)
const which = arg('provider') ?? 'node'
const seed = Number(arg('seed') ?? Date.now() % 2 ** 31)
const json = process.argv.includes('--json')
const names = which === 'both' ? (['node', 'noble'] as const) : ([which] as ('node' | 'noble')[])

let failed = false
const rows: string[] = []
for (const name of names) {
  const corpus = await buildCorpus(getProvider(name))
  const t0 = performance.now()
  const result = await fc.check(openerProperty(corpus), { numRuns: runs, seed })
  const secs = (performance.now() - t0) / 1000
  if (result.failed) failed = true
  const row = {
    bench: 'fuzz',
    provider: name,
    cases: result.numRuns,
    seed,
    seconds: Number(secs.toFixed(1)),
    cases_per_s: Math.round(result.numRuns / secs),
    failed: result.failed,
    counterexample: result.failed ? String(result.counterexample) : null,
    error: result.failed ? String(result.errorInstance) : null,
  }
  if (json) process.stdout.write(`${JSON.stringify(row)}\n`)
  else
    rows.push(
      `| ${name} | ${row.cases.toLocaleString('en-US')} | ${row.seconds} | ${row.cases_per_s.toLocaleString('en-US')} | ${row.failed ? `FAILED: ${row.error}` : 'no crash, no modified message accepted'} |`,
    )
}
if (!json) {
  process.stdout.write(
    `bench:fuzz  mutants of valid messages (3 key types x 2 serializations), seed ${seed}\n| provider | cases | seconds | cases/s | result |\n| --- | ---: | ---: | ---: | --- |\n${rows.join('\n')}\n`,
  )
}
process.exitCode = failed ? 1 : 0
