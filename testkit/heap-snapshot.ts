/** Measuring a child process: its live heap after a full GC (heap snapshot, summed streamed), CPU time and RSS, a cached key's native memory. */
import { type ChildProcess, spawnSync } from 'node:child_process'
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

/*
 * V8 collects garbage fully before it writes a snapshot, so the sum of every node's self_size is the live heap
 * (objects, strings, code, and ArrayBuffer backing stores as "system / JSArrayBufferData" nodes). Native memory
 * outside V8 (OpenSSL's key structures behind a KeyObject, SQLite's page cache) is not in it: read RSS beside it.
 * The file can be hundreds of MB, so the "nodes" array is summed while streaming, never parsed whole.
 */

/** The child must run with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR`; resolves with its live heap in bytes. */
export async function liveHeapBytes(child: ChildProcess, dir: string, timeoutMs = 300_000): Promise<number> {
  const before = new Set(readdirSync(dir))
  child.kill('SIGUSR2')
  const end = Date.now() + timeoutMs
  let file: string | undefined
  let lastSize = -1
  for (;;) {
    if (Date.now() > end) throw new Error('heap snapshot not written in time')
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the process exited before its heap snapshot')
    file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))
    if (file !== undefined) {
      const size = statSync(join(dir, file)).size
      // written in one go on the main thread: complete once it ends with the closing brace and stops growing
      if (size === lastSize && size > 0 && readTail(join(dir, file)).trimEnd().endsWith('}')) break
      lastSize = size
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  const path = join(dir, file)
  try {
    return await sumSelfSizes(path)
  } finally {
    rmSync(path, { force: true })
  }
}

function readTail(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const buf = Buffer.alloc(Math.min(16, size))
    readSync(fd, buf, 0, buf.length, size - buf.length)
    return buf.toString('latin1')
  } finally {
    closeSync(fd)
  }
}

/** Sums field `self_size` over the flat `nodes` array of a .heapsnapshot file. */
export async function sumSelfSizes(path: string): Promise<number> {
  let head = ''
  let fields = 0
  let at = -1
  let inNodes = false
  let index = 0
  let num = ''
  let total = 0
  const flush = (): void => {
    if (num === '') return
    if (index % fields === at) total += Number(num)
    index++
    num = ''
  }
  for await (const chunk of createReadStream(path, { encoding: 'latin1', highWaterMark: 1 << 20 })) {
    let s = chunk as string
    if (!inNodes) {
      head += s
      const m = /"nodes":\[/.exec(head)
      if (m === null) continue
      const names =
        /"node_fields":\[([^\]]*)\]/
          .exec(head)?.[1]
          ?.split(',')
          .map((x) => x.trim().replace(/"/g, '')) ?? []
      fields = names.length
      at = names.indexOf('self_size')
      if (at < 0) throw new Error('heap snapshot without self_size')
      inNodes = true
      s = head.slice(m.index + m[0].length)
      head = ''
    }
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c >= 48 && c <= 57) num += s[i]
      else if (c === 93) {
        flush()
        return total // ']': the end of "nodes"
      } else flush()
    }
  }
  throw new Error('heap snapshot ended inside "nodes"')
}

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
