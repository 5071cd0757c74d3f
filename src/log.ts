/** A small leveled logger to stderr (JSON lines with LOG_FORMAT=json). Never pass key material to it. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const noop = (): void => {}

/** Builds a logger once; disabled levels are no-op functions (no formatting cost on the hot path). */
export function createLogger(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; name?: string } = {}): Logger {
  const level = opts.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info'
  const json = opts.json ?? process.env.LOG_FORMAT === 'json'
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
