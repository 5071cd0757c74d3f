/** A child's live heap after a full GC: trigger its heap snapshot (node --heapsnapshot-signal) and sum the node sizes, streamed. */
import type { ChildProcess } from 'node:child_process'
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs'
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
