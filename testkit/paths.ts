/** Paths for tests: the repository root (found from this compiled file), fixtures, temp dirs. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(start: string): string {
  let dir = start
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir
    const up = dirname(dir)
    if (up === dir) throw new Error(`no repository root above ${start}`)
    dir = up
  }
}

/** The repository root (not build/). */
export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)))
export const repoPath = (...parts: string[]): string => resolve(repoRoot, ...parts)
export const fixturePath = (...parts: string[]): string => resolve(repoRoot, 'test/fixtures', ...parts)
/** The compiled CLI entry point. */
export const cliPath = resolve(repoRoot, 'build/cli/main.js')

/** A fresh temp dir removed when the returned disposer runs (call it in `after`). */
export function makeTempDir(prefix = 'daneel-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
