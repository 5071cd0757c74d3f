#!/usr/bin/env node
// Writes the README's "Commands at a glance" table from cli/conventions.ts (run after tsc: `npm run docs:cli`).
// test/cli/conventions.test.ts fails when the README and the data disagree.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { renderConventionsTable } = await import(resolve(root, 'build/cli/conventions.js'))
const path = resolve(root, 'README.md')
const readme = readFileSync(path, 'utf8')
const re = /(<!-- cli-conventions -->\n)[\s\S]*?(<!-- \/cli-conventions -->)/
if (!re.test(readme)) throw new Error('README.md has no <!-- cli-conventions --> markers')
writeFileSync(
  path,
  readme.replace(re, (_m, a, b) => `${a}${renderConventionsTable()}${b}`),
)
