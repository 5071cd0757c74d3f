/** A throw-away PostgreSQL for tests and benches: initdb into a temp dir, its own port on 127.0.0.1, stopped at the end. */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './ports.js'

/**
 * Debian's postgresql package puts its binaries under /usr/lib/postgresql/<major>/bin (not on PATH). PostgreSQL
 * refuses to run as root: when we are root the data directory is given to the `postgres` user and every
 * server command runs through `runuser -u postgres`. Authentication is `trust` on 127.0.0.1 only, and the
 * socket goes into the temp dir, so the instance touches nothing of the system's.
 */
export interface Postgres {
  readonly port: number
  /** `postgres://daneel@127.0.0.1:PORT/DB` */
  url(database?: string): string
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>
  /** `pg_ctl stop -m fast`; safe to call twice. */
  stop(): Promise<void>
  log(): string
}

export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin')
}

export async function startPostgres(dir: string): Promise<Postgres> {
  const bin = postgresBin()
  if (bin === undefined) throw new Error('PostgreSQL is not installed (scripts/install-test-deps.sh installs postgresql)')
  const asRoot = process.getuid?.() === 0
  const run = (cmd: string, args: string[]): SpawnSyncReturns<string> => {
    const r = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8', cwd: dir })
      : spawnSync(join(bin, cmd), args, { encoding: 'utf8', cwd: dir })
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}${r.stdout}\n${logOf()}`)
    return r
  }
  mkdirSync(dir, { recursive: true })
  if (asRoot) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const gw = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    chownSync(dir, Number(pw.stdout.trim()), Number(gw.stdout.trim()))
  }
  const data = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')
  const logOf = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  run('initdb', ['-D', data, '-U', 'daneel', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'])
  let port = 0
  for (let tries = 0; ; tries++) {
    port = await freePort()
    try {
      // fsync stays on: the store's durability claims are about a real commit
      run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start'])
      break
    } catch (err) {
      if (tries >= 3) throw err
    }
  }
  let stopped = false
  const url = (database = 'postgres'): string => `postgres://daneel@127.0.0.1:${port}/${database}`
  return {
    port,
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() })
      await c.connect()
      try {
        await c.query(`CREATE DATABASE ${name}`)
      } finally {
        await c.end()
      }
      return url(name)
    },
    async stop() {
      if (stopped) return
      stopped = true
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
    },
    log: logOf,
  }
}
