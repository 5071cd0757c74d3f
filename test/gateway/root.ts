/** The repository root for gateway tests (found from this compiled file), without depending on shared test helpers. */
import { existsSync } from 'node:fs'
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

export const root = findRoot(dirname(fileURLToPath(import.meta.url)))
export const rootPath = (...parts: string[]): string => resolve(root, ...parts)
