/** A real Mosquitto broker for tests: 127.0.0.1, a free port, a temp config with persistence; restart and stop. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { accepts, freePort } from './ports.js'

export const MOSQUITTO = '/usr/sbin/mosquitto'

export interface MosquittoOptions {
  /** Directory for config, persistence and log (a test's temp dir). */
  dir: string
  /** username → password: writes a password file with mosquitto_passwd and turns anonymous access off. */
  users?: Record<string, string>
  /** TLS listener files (PEM); with `requireCertificate` clients must present a certificate signed by `cafile`. */
  tls?: { cafile: string; certfile: string; keyfile: string; requireCertificate?: boolean }
  /** Keep messages on disk across restarts (default true; benches turn it off). */
  persistence?: boolean
  /** Messages queued per persistent session while its client is away (default 0: unlimited). */
  maxQueuedMessages?: number
  /** Extra config lines. */
  extra?: string[]
}

export interface Mosquitto {
  readonly port: number
  readonly url: string
  readonly pid: number | undefined
  /** SIGTERM (Mosquitto writes its persistence file), then start again on the same port. */
  restart(): Promise<void>
  /** SIGTERM and wait; safe to call twice. */
  stop(): Promise<void>
  /** Everything the broker logged (for failure messages). */
  log(): string
}

/** Starts Mosquitto; retries on another port if the chosen one was taken meanwhile. */
export async function startMosquitto(opts: MosquittoOptions): Promise<Mosquitto> {
  mkdirSync(opts.dir, { recursive: true })
  let logText = ''
  let child: ChildProcess | undefined
  let port = 0
  const conf = join(opts.dir, 'mosquitto.conf')

  const writeConf = (): void => {
    const lines = [
      `listener ${port} 127.0.0.1`,
      ...(opts.persistence === false
        ? ['persistence false']
        : ['persistence true', `persistence_location ${opts.dir}/`, 'autosave_interval 1']),
      // Messages for a persistent session while its client is away: the default 1000 would drop readings
      // queued for a receiver during a broker restart; 0 is unlimited (the zero-loss test needs it).
      `max_queued_messages ${opts.maxQueuedMessages ?? 0}`,
      'max_inflight_messages 20',
      // Run as root, Mosquitto drops to user 'mosquitto', which cannot write our 0700 temp dir; stay ourselves.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
    ]
    if (opts.users !== undefined) {
      const pw = join(opts.dir, 'passwd')
      writeFileSync(pw, '', { mode: 0o600 })
      for (const [u, p] of Object.entries(opts.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', pw, u, p])
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`)
      }
      lines.push('allow_anonymous false', `password_file ${pw}`)
    } else {
      lines.push('allow_anonymous true')
    }
    if (opts.tls !== undefined) {
      lines.push(`cafile ${opts.tls.cafile}`, `certfile ${opts.tls.certfile}`, `keyfile ${opts.tls.keyfile}`)
      if (opts.tls.requireCertificate === true) lines.push('require_certificate true') // and, with users, a password too
    }
    lines.push(...(opts.extra ?? []))
    writeFileSync(conf, `${lines.join('\n')}\n`)
  }

  const launch = async (): Promise<boolean> => {
    writeConf()
    const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    c.stdout?.on('data', (d: Buffer) => (logText += d.toString()))
    c.stderr?.on('data', (d: Buffer) => (logText += d.toString()))
    let exited = false
    c.once('exit', () => (exited = true))
    for (let i = 0; i < 200; i++) {
      if (exited) return false
      if (await accepts(port)) return true
      await new Promise((r) => setTimeout(r, 25))
    }
    return false
  }

  const kill = async (): Promise<void> => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const done = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    const t = setTimeout(() => c.kill('SIGKILL'), 5000)
    await done
    clearTimeout(t)
  }

  for (let tries = 0; ; tries++) {
    port = await freePort()
    if (await launch()) break
    await kill()
    if (tries >= 4) throw new Error(`mosquitto did not start:\n${logText}`)
  }

  return {
    port,
    url: `${opts.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${port}`,
    get pid() {
      return child?.pid
    },
    async restart() {
      await kill()
      for (let tries = 0; tries < 20; tries++) {
        if (await launch()) return
        await kill()
        await new Promise((r) => setTimeout(r, 100)) // the port may linger a moment
      }
      throw new Error(`mosquitto did not restart:\n${logText}`)
    },
    stop: kill,
    log: () => logText,
  }
}

/** Files of a throw-away broker PKI made by openssl: a CA, a server certificate for 127.0.0.1, a client certificate. */
export interface BrokerPki {
  ca: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
}

/** Makes the broker PKI in `dir` with openssl (P-256, 2 days): the TLS tests' fixture, from a real tool. */
export function makeBrokerPki(dir: string): BrokerPki {
  mkdirSync(dir, { recursive: true })
  const ossl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
  }
  const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ossl('req', '-x509', ...p256, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test mqtt ca')
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ossl('req', ...p256, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`)
    ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    )
  }
  const f = (n: string): string => join(dir, n)
  return {
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  }
}
