/** What the commands acting as DANE_ID share: flags with our settings and name, our private key, bounded input. */
import type { KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { requireDaneId, resolveSettings, type Settings } from '../settings/settings.js'
import { DaneelError } from '../src/errors.js'
import { readPrivateKeyFile } from '../src/key-file.js'
import { MAX_PEM_FILE_BYTES, readFileBounded } from '../src/read-file.js'
import { loadPrivateKey } from '../src/x509/keys.js'
import { type Options, type Parsed, parseCommand } from './args.js'

export interface OwnCommand<O extends Options> {
  values: Parsed<O>['values']
  settings: Settings
  /** Our identity name (DANE_ID). */
  me: string
}

/**
 * Parses a command that takes no positional argument (`--help`: undefined, the command exits 0), resolves the
 * settings from flags and environment, and requires DANE_ID.
 */
export function parseOwnCommand<O extends Options>(argv: string[], options: O, help: string): OwnCommand<O> | undefined {
  const parsed = parseCommand(argv, options, help, 0)
  if (parsed === undefined) return undefined
  const settings = resolveSettings(parsed.values as Parameters<typeof resolveSettings>[0], process.env)
  return { values: parsed.values, settings, me: requireDaneId(settings) }
}

/** Our private key: `--key FILE`, or by default CRYPTO_PATH/DANE_ID.key.pem (docs/contract.md "Files"). */
export function loadOwnKey(settings: Settings, me: string, keyFlag: string | undefined): KeyObject {
  return loadPrivateKey(readPrivateKeyFile(keyFlag ?? join(settings.cryptoPath, `${me}.key.pem`)))
}

/** All of stdin, refused (ERR_MESSAGE_TOO_LARGE) as soon as it runs past `limit` bytes. */
export async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length
    if (size > limit) throw new DaneelError('ERR_MESSAGE_TOO_LARGE', `stdin is larger than ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** A certificate (or other PEM/DER) file, bounded like every PEM file we read. */
export function readFileOrFail(path: string, what: string): Buffer {
  return readFileBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what })
}
