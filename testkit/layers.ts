/**
 * The import rules between top-level folders (the README's layout table) and a checker over the import graph of
 * the .ts sources: every relative import (static, dynamic with a string literal, `export ... from`) is resolved
 * and its target's top folder must be one the importer's folder may use. `node build/testkit/layers.js` checks
 * the repository (npm's pretest runs it); test/layers.test.ts checks the rules themselves.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One rule per top folder: the folders (or single files, e.g. `sensors/hal.ts`) it may import besides itself. */
export interface LayerRule {
  readonly mayImport: readonly string[]
  /** With `mayImport: ['*']`: the folders still refused. */
  readonly except?: readonly string[]
  /** Why, in one line, for the error message. */
  readonly why: string
}

export const LAYERS: Readonly<Record<string, LayerRule>> = {
  src: { mayImport: [], why: 'the protocol core imports nothing above it' },
  sensors: { mayImport: ['src'], why: 'drivers see only the core and their own hal.ts' },
  messaging: { mayImport: ['src'], why: 'the outbox and MQTT layer is shared by device/, cli/ and a gateway' },
  settings: { mayImport: ['src'], why: 'env and flag parsing sits below both cli/ and device/' },
  device: { mayImport: ['src', 'sensors', 'messaging', 'settings'], why: 'the runtime never reaches up into the command line' },
  provisioning: {
    mayImport: ['src', 'settings', 'sensors/hal.ts'],
    why: 'provisioning uses interfaces (sensors/hal.ts), never device/hal-linux directly',
  },
  gateway: { mayImport: ['src', 'messaging', 'settings'], why: 'a gateway receives; it shares messaging, not the device runtime' },
  cli: { mayImport: ['*'], why: 'the command line may import everything' },
  testkit: {
    mayImport: ['*'],
    except: ['test', 'bench'],
    why: 'shared test and bench helpers must not depend on either of their users',
  },
  bench: {
    mayImport: ['*'],
    except: ['test'],
    why: 'benches share helpers with tests through testkit/, not test/',
  },
  test: {
    mayImport: ['*'],
    except: ['bench'],
    why: 'tests share helpers with benches through testkit/, not bench/',
  },
}

export interface Violation {
  readonly file: string
  readonly line: number
  readonly target: string
  readonly message: string
}

/**
 * The module specifiers of a TypeScript source with their offsets: string literals right after `from`, `import`
 * or `import(`. Comments, other strings and template literals are skipped, so an import written inside a string
 * (as the layer test plants them) is not one.
 */
export function importSpecifiers(text: string): { spec: string; index: number }[] {
  const out: { spec: string; index: number }[] = []
  let prev = ''
  let last = ''
  const token = (t: string): void => {
    prev = last
    last = t
  }
  let i = 0
  const n = text.length
  const skipTemplate = (): void => {
    // i is just after the opening backtick; skip to the closing one, through ${ ... } (which may nest templates)
    while (i < n && text[i] !== '`') {
      if (text[i] === '\\') i += 2
      else if (text[i] === '$' && text[i + 1] === '{') {
        i += 2
        let depth = 1
        while (i < n && depth > 0) {
          const c = text[i]
          if (c === '{') depth++
          else if (c === '}') depth--
          else if (c === '`') {
            i++
            skipTemplate()
          } else if (c === "'" || c === '"') skipString(c)
          i++
        }
      } else i++
    }
  }
  const skipString = (q: string): void => {
    // i is at the opening quote; leaves i at the closing one
    i++
    while (i < n && text[i] !== q && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1
  }
  while (i < n) {
    const c = text[i] as string
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (c === "'" || c === '"') {
      const start = i
      skipString(c)
      if (last === 'from' || last === 'import' || (last === '(' && prev === 'import'))
        out.push({ spec: text.slice(start + 1, i), index: start })
      token('string')
      i++
    } else if (c === '`') {
      i++
      skipTemplate()
      token('template')
      i++
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i
      while (i < n && /[\w$]/.test(text[i] as string)) i++
      token(text.slice(start, i))
    } else {
      if (!/\s/.test(c)) token(c)
      i++
    }
  }
  return out
}

/** The top folder of a repo-relative path ('' for files at the root). */
function topOf(path: string): string {
  const i = path.indexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

/** Checks sources given as repo-relative path -> text; files outside the ruled folders are not checked. */
export function checkImports(files: ReadonlyMap<string, string>, rules: Readonly<Record<string, LayerRule>> = LAYERS): Violation[] {
  const out: Violation[] = []
  for (const [file, text] of files) {
    const from = topOf(file)
    const rule = rules[from]
    if (rule === undefined) continue
    for (const { spec, index } of importSpecifiers(text)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts')
      const to = topOf(target)
      const line = text.slice(0, index).split('\n').length
      if (target.startsWith('..')) {
        out.push({ file, line, target, message: `${file}:${line} imports '${spec}', outside the repository` })
        continue
      }
      const refused = rule.except?.includes(to) === true
      const allowed =
        to === from || (!refused && (rule.mayImport.includes('*') || rule.mayImport.includes(to) || rule.mayImport.includes(target)))
      if (!allowed) {
        const may = rule.mayImport.includes('*')
          ? `anything but ${(rule.except ?? []).map((f) => `${f}/`).join(', ')}`
          : `only ${[from, ...rule.mayImport].map((f) => (f.endsWith('.ts') ? f : `${f}/`)).join(', ')}`
        out.push({
          file,
          line,
          target,
          message: `${file}:${line} imports ${target}: ${from}/ may import ${may} (${rule.why})`,
        })
      }
    }
  }
  return out
}

/** Reads every .ts file under the ruled top folders of `root` (skips node_modules, build, dist, fixtures). */
export function readSources(root: string, rules: Readonly<Record<string, LayerRule>> = LAYERS): Map<string, string> {
  const files = new Map<string, string>()
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (name === 'node_modules' || name === 'fixtures') continue
      const p = `${rel}/${name}`
      if (statSync(join(root, p)).isDirectory()) walk(p)
      else if (name.endsWith('.ts')) files.set(p, readFileSync(join(root, p), 'utf8'))
    }
  }
  for (const top of Object.keys(rules)) {
    try {
      if (statSync(join(root, top)).isDirectory()) walk(top)
    } catch {
      // a ruled folder that does not exist yet (gateway/)
    }
  }
  return files
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (isMain) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..')
  const violations = checkImports(readSources(root))
  if (violations.length > 0) {
    process.stderr.write(`layers: ${violations.length} forbidden import(s) (rules: README.md "Layout", testkit/layers.ts):\n`)
    for (const v of violations) process.stderr.write(`  ${v.message}\n`)
    process.exit(1)
  }
  process.stdout.write(`layers: ${readSources(root).size} files, no forbidden imports\n`)
}
