/** Flag parsing shared by commands: node's parseArgs, `--help` on every command, usage errors as ERR_USAGE. */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { DaneelError } from '../src/errors.js'

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string }
  positionals: string[]
}

/**
 * Parses argv with `options` plus `--help`. When `--help` is given, prints `help` and returns undefined
 * (the command then exits 0). Unknown flags and bad values throw ERR_USAGE (exit 2).
 */
export function parseCommand<O extends Options>(argv: string[], options: O, help: string): Parsed<O> | undefined {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new DaneelError('ERR_USAGE', `${(err as Error).message}\n${help}`)
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    process.stdout.write(`${help.trimEnd()}\n`)
    return undefined
  }
  return parsed as unknown as Parsed<O>
}
