/** Flag parsing shared by commands: node's parseArgs, `--help` on every command, usage errors as one ERR_USAGE line. */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { DaneelError } from '../src/errors.js'

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string }
  positionals: string[]
}

/** `daneel identity tlsa` from a help text's first line `Usage: daneel identity tlsa [options] ...`. */
export function commandOf(help: string): string {
  const words = /^Usage:\s+(.*)$/m.exec(help)?.[1]?.split(/\s+/) ?? ['daneel']
  const out: string[] = []
  for (const w of words) {
    if (!/^[a-z][a-z0-9-]*$/.test(w)) break
    out.push(w)
  }
  return out.join(' ') || 'daneel'
}

/** The command whose flags were parsed last (`daneel send`), so any usage error can say where its help is. */
let lastCommand: string | undefined
export const currentCommand = (): string | undefined => lastCommand

/** Adds `(see daneel CMD --help)` to a usage error that does not say where help is yet. */
export function withHelpHint(err: unknown): unknown {
  if (lastCommand !== undefined && err instanceof DaneelError && err.code === 'ERR_USAGE' && !err.message.includes('--help)'))
    err.message = `${err.message} (see ${lastCommand} --help)`
  return err
}

/** A usage error: what is wrong, and where help is, on one line (exit 2). */
export function usageError(help: string, what: string, options?: ErrorOptions): DaneelError {
  return new DaneelError('ERR_USAGE', `${what} (see ${commandOf(help)} --help)`, options)
}

/**
 * Node's parseArgs takes `--days -5` for two options (and then says "argument is ambiguous"). A string option
 * followed by a negative number gets it as its value (`--days=-5`), so the command can say what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      out.push(...argv.slice(i))
      break
    }
    const next = argv[i + 1]
    const long = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined
    const short = /^-[a-zA-Z]$/.test(a) ? Object.entries(options).find(([, o]) => o.short === a.slice(1))?.[0] : undefined
    const name = long ?? short
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/** Node's parseArgs messages, reduced to what is wrong (they run to three sentences with an unbalanced quote). */
function describeParseError(err: unknown): string {
  const e = err as { code?: string; message?: string }
  const message = e.message ?? String(err)
  const option = /'(-[^' ]+)/.exec(message)?.[1]
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return option === undefined ? 'unknown option' : `unknown option '${option}'`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option === undefined ? 'an option is missing its value' : `option '${option}' needs a value`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[0] ?? ''}`.trim()
    default:
      return message.split('. ')[0] ?? message
  }
}

/**
 * Parses argv with `options` plus `--help`. When `--help` is given, prints `help` and returns undefined
 * (the command then exits 0). Unknown flags and bad values throw ERR_USAGE (exit 2), one line. With
 * `maxPositionals`, more positional arguments than that are a usage error too.
 */
export function parseCommand<O extends Options>(argv: string[], options: O, help: string, maxPositionals?: number): Parsed<O> | undefined {
  lastCommand = commandOf(help)
  let parsed: ReturnType<typeof parseArgs>
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as Options
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, all), options: all, allowPositionals: true, strict: true })
  } catch (err) {
    throw usageError(help, describeParseError(err), { cause: err })
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    process.stdout.write(`${help.trimEnd()}\n`)
    return undefined
  }
  if (maxPositionals !== undefined && parsed.positionals.length > maxPositionals)
    throw usageError(help, `unexpected argument '${parsed.positionals[maxPositionals]}'`)
  return parsed as unknown as Parsed<O>
}
