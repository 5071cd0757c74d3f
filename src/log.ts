/** A small leveled logger to stderr (JSON lines with LOG_FORMAT=json). Never pass key material to it. */
import { DaneelError } from './errors.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 }
export const LOG_LEVELS = Object.keys(RANK) as readonly LogLevel[]
export type LogFormat = 'text' | 'json'

/** LOG_LEVEL (or --log-level): one of LOG_LEVELS; anything else is a configuration error, not a silent default. */
export function parseLogLevel(raw: string | undefined, name = 'LOG_LEVEL'): LogLevel | undefined {
  if (raw === undefined || raw === '') return undefined
  const v = raw.trim().toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new DaneelError('ERR_CONFIG_INVALID', `${name} must be one of ${LOG_LEVELS.join(', ')}, not '${raw}'`)
  return v as LogLevel
}

/** LOG_FORMAT (or --log-format): text (default) or json. */
export function parseLogFormat(raw: string | undefined, name = 'LOG_FORMAT'): LogFormat | undefined {
  if (raw === undefined || raw === '') return undefined
  const v = raw.trim().toLowerCase()
  if (v !== 'text' && v !== 'json') throw new DaneelError('ERR_CONFIG_INVALID', `${name} must be text or json, not '${raw}'`)
  return v
}

/** Process-wide defaults set from flags (settings/settings.ts), ahead of LOG_LEVEL / LOG_FORMAT. */
const defaults: { level?: LogLevel; format?: LogFormat } = {}
export function setLogDefaults(d: { level?: LogLevel | undefined; format?: LogFormat | undefined }): void {
  if (d.level !== undefined) defaults.level = d.level
  if (d.format !== undefined) defaults.format = d.format
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const noop = (): void => {}

/** Builds a logger once; disabled levels are no-op functions (no formatting cost on the hot path). */
export function createLogger(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; name?: string } = {}): Logger {
  // An invalid LOG_LEVEL is refused by resolveSettings before any command runs; here it falls back to info.
  const envLevel = process.env.LOG_LEVEL?.trim().toLowerCase() as LogLevel | undefined
  const level = opts.level ?? defaults.level ?? (envLevel !== undefined && envLevel in RANK ? envLevel : 'info')
  const json = opts.json ?? (defaults.format ?? process.env.LOG_FORMAT?.trim().toLowerCase()) === 'json'
  const write = opts.write ?? ((line: string) => process.stderr.write(line))
  const prefix = opts.name === undefined ? 'daneel' : `daneel:${opts.name}`
  const make = (lv: Exclude<LogLevel, 'silent'>) => {
    if ((RANK[lv] ?? 0) < (RANK[level] ?? 20)) return noop
    return (msg: string, fields?: Record<string, unknown>): void => {
      if (json) {
        write(`${JSON.stringify({ level: lv, name: prefix, time: new Date().toISOString(), msg, ...fields })}\n`)
      } else {
        const extra = fields === undefined ? '' : ` ${JSON.stringify(fields)}`
        write(`${prefix} ${lv}: ${msg}${extra}\n`)
      }
    }
  }
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') }
}

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
