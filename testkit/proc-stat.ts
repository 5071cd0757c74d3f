/** CPU time and resident memory of a process from /proc, and the native memory a cached node:crypto key holds. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** utime+stime in seconds (proc(5): fields 14 and 15, in clock ticks of 1/100 s) and VmRSS in MB. */
export function procStat(pid: number | undefined): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMb: Number(rss) / 1024 }
}

/**
 * What V8's heap does not show: the OpenSSL state behind each cached KeyObject. A child imports 10,000 P-256
 * SPKIs with node:crypto, verifies once with each (OpenSSL fills per-key caches on first use), RSS after a GC.
 */
export function nativeKeyBytes(): number {
  const code = `const c = await import('node:crypto')
const spkis = Array.from({ length: 10000 }, () => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }))
gc(); const r0 = process.memoryUsage().rss
const keys = spkis.map((key) => c.createPublicKey({ key, format: 'der', type: 'spki' }))
for (const key of keys) c.verify('sha256', Buffer.from('x'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.alloc(64, 1))
gc(); console.log((process.memoryUsage().rss - r0) / 10000)`
  const out = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8' })
  return Number(out.stdout.trim())
}
