/** `--store URL` (env DANEEL_STORE): which store to open. `sqlite:PATH` is built in; other schemes are refused by name. */
import { isAbsolute, join, resolve } from 'node:path'
import { DaneelError } from '../../src/errors.js'
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js'
import type { ReadingStore } from './types.js'

export type StoreLocation = { kind: 'sqlite'; path: string }

/** The embedded default: `sqlite:$DANEEL_STATE/readings.db`. */
export const defaultStoreUrl = (stateDir: string): string => `sqlite:${join(stateDir, 'readings.db')}`

/**
 * `sqlite:PATH` (relative paths resolve against `cwd`; `sqlite:///abs/path` is accepted for those who write URLs
 * with a host part). `postgres://` and `postgresql://` are recognised and refused plainly until that store exists.
 * Anything else is ERR_CONFIG_INVALID naming the scheme.
 */
export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreLocation {
  const colon = url.indexOf(':')
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : ''
  if (scheme === 'sqlite') {
    let path = url.slice(colon + 1)
    if (path.startsWith('//')) {
      // sqlite:///abs/path (empty host); a host part makes no sense for a file
      const rest = path.slice(2)
      if (!rest.startsWith('/'))
        throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${JSON.stringify(url)}: sqlite takes a file path, not a host`)
      path = rest
    }
    if (path === '' || path === ':memory:' || path.includes('\0'))
      throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${JSON.stringify(url)}: sqlite needs a file path (sqlite:PATH)`)
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) }
  }
  if (scheme === 'postgres' || scheme === 'postgresql')
    throw new DaneelError('ERR_CONFIG_INVALID', 'store URL: PostgreSQL stores are not built in this version of daneel; use sqlite:PATH')
  if (scheme === '') throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${JSON.stringify(url)} has no scheme; expected sqlite:PATH`)
  throw new DaneelError('ERR_CONFIG_INVALID', `store URL scheme ${JSON.stringify(scheme)} is not supported; expected sqlite:PATH`)
}

/** The store a URL names, not yet opened (call `open()`). */
export function createStore(url: string, options: SqliteStoreOptions = {}): ReadingStore {
  const loc = parseStoreUrl(url)
  return new SqliteStore(loc.path, options)
}
