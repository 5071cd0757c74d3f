/** `--store URL` (env DANEEL_STORE): which store to open, `sqlite:PATH` (embedded) or `postgres://…` (shared by workers). */
import { isAbsolute, join, resolve } from 'node:path'
import { DaneelError } from '../../src/errors.js'
import type { PostgresStoreOptions } from './postgres.js'
import { redactUrl } from './redact.js'
import type { SqliteStoreOptions } from './sqlite.js'
import type { ReadingStore } from './types.js'

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; retentionDays?: number }

/** The embedded default: `sqlite:$DANEEL_STATE/readings.db`. */
export const defaultStoreUrl = (stateDir: string): string => `sqlite:${join(stateDir, 'readings.db')}`

/**
 * `sqlite:PATH` (relative paths resolve against `cwd`; `sqlite:///abs/path` is accepted for those who write URLs
 * with a host part). `postgres://` and `postgresql://` are libpq-style URLs handed to `pg`, except our own query
 * parameter `retention_days=N` (readings older than N days are dropped by month; see docs/scale.md).
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
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(url)
  if (scheme === '')
    throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${JSON.stringify(url)} has no scheme; expected sqlite:PATH or postgres://…`)
  throw new DaneelError(
    'ERR_CONFIG_INVALID',
    `store URL scheme ${JSON.stringify(scheme)} is not supported; expected sqlite:PATH or postgres://…`,
  )
}

function parsePostgres(url: string): StoreLocation {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${redactUrl(url)} is not a valid URL`)
  }
  const raw = u.searchParams.get('retention_days')
  if (raw === null) return { kind: 'postgres', url }
  const days = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw) || !(days > 0))
    throw new DaneelError('ERR_CONFIG_INVALID', `store URL ${redactUrl(url)}: retention_days must be a positive number of days`)
  u.searchParams.delete('retention_days')
  return { kind: 'postgres', url: u.toString(), retentionDays: days }
}

/**
 * The store a URL names, not yet opened (call `open()`). Each backend is imported only when named: `pg` alone adds
 * about 2.5 MB of heap and 16 MB of RSS to a process that stores in SQLite (measured with `process.memoryUsage()`
 * around the import, Node 20), and the gateway's RSS budget is 120 MB (docs/gateway.md).
 */
export async function createStore(url: string, options: SqliteStoreOptions & PostgresStoreOptions = {}): Promise<ReadingStore> {
  const loc = parseStoreUrl(url)
  if (loc.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres.js')
    return new PostgresStore(loc.url, loc.retentionDays === undefined ? options : { ...options, retentionDays: loc.retentionDays })
  }
  const { SqliteStore } = await import('./sqlite.js')
  return new SqliteStore(loc.path, options)
}
