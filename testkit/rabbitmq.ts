/** A RabbitMQ cluster for tests and benches: N nodes on 127.0.0.1 with their own names, ports and data, MQTT on, clustered. */
import { type ChildProcess, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { accepts, freePort } from './ports.js'

/**
 * Debian's rabbitmq-server (3.10, Erlang 25). Every node gets, under `dir`/rN: its own node name
 * (`<prefix>-rN@localhost`), AMQP, MQTT and Erlang distribution ports, mnesia and log directories, an
 * enabled-plugins file with `rabbitmq_mqtt` (RABBITMQ_ENABLED_PLUGINS_FILE), and a config file. The cluster
 * shares a private epmd port (ERL_EPMD_PORT) and Erlang cookie, so it never meets the system's RabbitMQ or
 * another test's cluster. As root, the directories are given to the `rabbitmq` user and the nodes run as it
 * (`runuser -u rabbitmq`). Nodes 2..N join node 1 with `rabbitmqctl join_cluster`. `stop()` runs
 * `rabbitmqctl stop` per node, then stops the private epmd.
 */
export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'

export interface RabbitNode {
  readonly name: string
  readonly amqpPort: number
  readonly mqttPort: number
  readonly distPort: number
  readonly amqpUrl: string
  readonly mqttUrl: string
  /** The beam.smp process id (from its pid file), while running. */
  pid(): number | undefined
  /** SIGKILL the node's VM (no clean shutdown) and wait until its AMQP port is closed. */
  kill(): Promise<void>
  /** Starts the node again with the same name and data (it rejoins its cluster); resolves when it serves. */
  start(): Promise<void>
  log(): string
}

export interface RabbitCluster {
  readonly nodes: readonly RabbitNode[]
  /** Wall time from spawning the nodes to a formed cluster, ms. */
  readonly startMs: number
  /** `rabbitmqctl` against node `i` (0-based); resolves with stdout, rejects with its output. */
  ctl(i: number, args: string[]): Promise<string>
  stop(): Promise<void>
}

export function rabbitmqAvailable(): boolean {
  return existsSync(RABBITMQ_SERVER) && existsSync(RABBITMQCTL)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function startRabbitCluster(dir: string, size = 3): Promise<RabbitCluster> {
  if (!rabbitmqAvailable()) throw new Error('rabbitmq-server is not installed (scripts/install-test-deps.sh installs it)')
  const asRoot = process.getuid?.() === 0
  const owner = asRoot ? ids('rabbitmq') : undefined
  const prefix = `d${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const epmdPort = await freePort()
  const cookie = `DANEELTEST${prefix.toUpperCase()}`
  mkdirSync(dir, { recursive: true })
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid)

  const baseEnv = (home: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  })
  const asUser = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'rabbitmq', '--', cmd, ...args]] : [cmd, args]

  const run = (home: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> =>
    new Promise((resolve, reject) => {
      const [c, a] = asUser(cmd, args)
      const p = spawn(c, a, { env: { ...baseEnv(home), ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: home })
      let out = ''
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      p.stderr.on('data', (d: Buffer) => (out += d.toString()))
      p.once('error', reject)
      p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`))))
    })

  const nodes: (RabbitNode & { home: string; wait(): Promise<void>; stopClean(): Promise<void> })[] = []
  for (let i = 1; i <= size; i++) {
    const home = join(dir, `r${i}`)
    mkdirSync(home, { recursive: true })
    const [amqpPort, mqttPort, distPort] = [await freePort(), await freePort(), await freePort()]
    const name = `${prefix}-r${i}@localhost`
    writeFileSync(join(home, 'enabled_plugins'), '[rabbitmq_mqtt].\n')
    writeFileSync(
      join(home, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
        `mqtt.listeners.tcp.1 = 127.0.0.1:${mqttPort}`,
        'mqtt.allow_anonymous = true',
        // guest may connect from 127.0.0.1 only by default: that is all we use, but the MQTT plugin's
        // anonymous user is guest too, over the same loopback check
        'loopback_users = none',
        // a test machine's disk is small and shared: do not stop publishers at the default 50 MB free
        'disk_free_limit.absolute = 10MB',
        'log.file.level = info',
        '',
      ].join('\n'),
    )
    writeFileSync(join(home, '.erlang.cookie'), cookie, { mode: 0o400 })
    if (owner !== undefined)
      for (const f of ['', 'enabled_plugins', 'rabbitmq.conf', '.erlang.cookie']) chownSync(join(home, f), owner.uid, owner.gid)
    const env: NodeJS.ProcessEnv = {
      RABBITMQ_NODENAME: name,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(amqpPort),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(home, 'mnesia'),
      RABBITMQ_LOG_BASE: join(home, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(home, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(home, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(home, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(home, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: join(home, 'pid'),
      // the distribution listener on loopback only
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    }
    let child: ChildProcess | undefined
    let out = ''
    const pid = (): number | undefined => {
      try {
        const n = Number(readFileSync(join(home, 'pid'), 'utf8').trim())
        return Number.isSafeInteger(n) && n > 0 ? n : undefined
      } catch {
        return undefined
      }
    }
    const node = {
      name,
      home,
      amqpPort,
      mqttPort,
      distPort,
      amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      pid: () => (child !== undefined && child.exitCode === null && child.signalCode === null ? pid() : undefined),
      log: () => out,
      async start() {
        const [c, a] = asUser(RABBITMQ_SERVER, [])
        child = spawn(c, a, { env: { ...baseEnv(home), ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: home })
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
        child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
        await node.wait()
      },
      async wait() {
        // await_startup fails at once while the VM has not registered with epmd yet: retry until it has
        for (let k = 0; ; k++) {
          try {
            await run(home, RABBITMQCTL, ['-n', name, 'await_startup', '--timeout', '120'])
            break
          } catch (err) {
            if (k >= 60 || (child !== undefined && (child.exitCode !== null || child.signalCode !== null))) throw err
            await sleep(1000)
          }
        }
        for (let k = 0; k < 200 && !((await accepts(amqpPort)) && (await accepts(mqttPort))); k++) await sleep(100)
      },
      async kill() {
        const p = pid()
        const c = child
        if (p !== undefined) process.kill(p, 'SIGKILL')
        for (let k = 0; k < 200 && (await accepts(amqpPort)); k++) await sleep(50)
        if (c !== undefined && c.exitCode === null && c.signalCode === null) await new Promise((r) => c.once('exit', r))
      },
      async stopClean() {
        const c = child
        if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
        await run(home, RABBITMQCTL, ['-n', name, 'stop']).catch(() =>
          pid() === undefined ? undefined : process.kill(pid() as number, 'SIGKILL'),
        )
        await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r)))
      },
    }
    nodes.push(node)
  }
  const t0 = performance.now()
  const home0 = (nodes[0] as (typeof nodes)[number]).home
  try {
    await Promise.all(nodes.map((n) => n.start()))
    const first = (nodes[0] as (typeof nodes)[number]).name
    for (const n of nodes.slice(1)) {
      await run(n.home, RABBITMQCTL, ['-n', n.name, 'stop_app'])
      await run(n.home, RABBITMQCTL, ['-n', n.name, 'join_cluster', first])
      await run(n.home, RABBITMQCTL, ['-n', n.name, 'start_app'])
    }
    for (const n of nodes) await n.wait()
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stopClean()))
    await run(home0, 'epmd', ['-kill']).catch(() => undefined)
    throw new Error(`rabbitmq cluster did not form: ${(err as Error).message}\n${nodes.map((n) => n.log()).join('\n')}`)
  }
  const startMs = performance.now() - t0
  let stopped = false
  return {
    nodes,
    startMs,
    ctl: (i, args) => {
      const n = nodes[i]
      if (n === undefined) throw new RangeError(`no node ${i}`)
      return run(n.home, RABBITMQCTL, ['-n', n.name, ...args])
    },
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all(nodes.map((n) => n.stopClean()))
      await run(home0, 'epmd', ['-kill']).catch(() => undefined)
    },
  }
}

function ids(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))
  if (line === undefined) throw new Error(`no ${user} user (the rabbitmq-server package creates it)`)
  const f = line.split(':')
  return { uid: Number(f[2]), gid: Number(f[3]) }
}
