/** Small helpers for the DNS lab: run a tool, ask a server for a zone's SOA serial. */
import { execFile } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import dnsPacket from 'dns-packet'

/** Runs a command, resolving with stdout; rejects with stderr in the message (tools here are quick and quiet). */
export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/** One UDP SOA query to 127.0.0.1:port; the serial, or undefined on timeout/garbage/no SOA. */
export function soaSerial(port: number, zone: string, timeoutMs = 300, recursionDesired = false): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4')
    const id = randomInt(0, 65536)
    const done = (v: number | undefined): void => {
      clearTimeout(timer)
      sock.close()
      resolve(v)
    }
    const timer = setTimeout(() => done(undefined), timeoutMs)
    sock.on('error', () => done(undefined))
    sock.on('message', (msg) => {
      try {
        const p = dnsPacket.decode(msg)
        if (p.id !== id) return
        const soa = (p.answers ?? []).find((a) => a.type === 'SOA')
        done(soa === undefined ? undefined : (soa.data as { serial: number }).serial)
      } catch {
        done(undefined)
      }
    })
    const q = dnsPacket.encode({
      type: 'query',
      id,
      flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
      questions: [{ type: 'SOA', name: zone === '.' ? '.' : zone.replace(/\.$/, '') }],
    })
    sock.send(q, port, '127.0.0.1')
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
