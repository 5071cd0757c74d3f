/** A validating Unbound on 127.0.0.1 (free port), anchored at a lab's root and stubbed to its knotd: the DNSSEC=resolver peer. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DnsLab } from '../dns-lab.js'
import { freePort } from '../ports.js'
import { sleep, soaSerial } from './tools.js'
import { LAB_ZONES } from './zones.js'

export interface LabUnbound {
  port: number
  server: string
  stop(): Promise<void>
}

export async function startUnbound(lab: DnsLab): Promise<LabUnbound> {
  const dir = join(lab.dir, 'unbound')
  mkdirSync(dir, { recursive: true })
  const anchor = join(dir, 'root.anchor')
  const ds = readFileSync(lab.trustAnchorsFile, 'utf8')
    .split('\n')
    .filter((l) => /\sDS\s/.test(l))
  writeFileSync(anchor, `${ds.join('\n')}\n`)
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const conf = join(dir, 'unbound.conf')
    const lines = [
      'server:',
      '    interface: 127.0.0.1',
      `    port: ${port}`,
      '    do-ip6: no',
      '    do-daemonize: no',
      '    username: ""',
      '    chroot: ""',
      `    directory: "${dir}"`,
      `    pidfile: "${dir}/unbound.pid"`,
      '    use-syslog: no',
      `    logfile: "${dir}/unbound.log"`,
      '    verbosity: 1',
      '    access-control: 127.0.0.0/8 allow',
      '    do-not-query-localhost: no',
      '    module-config: "validator iterator"',
      `    trust-anchor-file: "${anchor}"`,
      '    edns-buffer-size: 1232',
      '    cache-max-ttl: 5',
      '    qname-minimisation: no',
      // unbound answers the RFC 6761 special-use name test. itself unless told not to
      '    local-zone: "test." nodefault',
      'remote-control:',
      '    control-enable: no',
      ...LAB_ZONES.flatMap(([z]) => ['stub-zone:', `    name: "${z}"`, `    stub-addr: 127.0.0.1@${lab.port}`]),
    ]
    writeFileSync(conf, `${lines.join('\n')}\n`)
    const fd = openSync(join(dir, 'stdout.log'), 'w')
    const proc: ChildProcess = spawn('unbound', ['-d', '-c', conf], { stdio: ['ignore', fd, fd] })
    closeSync(fd)
    const stop = async (): Promise<void> => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const gone = new Promise<void>((r) => proc.once('exit', () => r()))
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000)
      await gone
      clearTimeout(t)
    }
    process.once('exit', () => {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    })
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      if ((await soaSerial(port, 'example.test.', 500, true)) !== undefined) return { port, server: `127.0.0.1:${port}`, stop }
      await sleep(50)
    }
    await stop()
  }
  throw new Error(`unbound did not come up: ${readFileSync(join(dir, 'unbound.log'), 'utf8').slice(-1500)}`)
}
