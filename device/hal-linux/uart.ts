/** The Linux Uart: a tty device set to raw 8N1 at the sensor's speed with `stty`, read and written through libuv tty handles. */
import { execFile } from 'node:child_process'
import { closeSync, constants, openSync, writeSync } from 'node:fs'
import { isatty, ReadStream, WriteStream } from 'node:tty'
import type { DataListener, ErrorListener, Uart } from '../../sensors/hal.js'
import { DaneelError } from '../../src/errors.js'

/*
 * Why stty and not `serialport`: every sensor here is 9600 8N1 with no flow control, which `stty` (coreutils, on every
 * Pi OS image) sets once at open; after that a tty is just a byte stream. `serialport` would add a native addon
 * (@serialport/bindings-cpp, prebuilt but still native, and bundled as an external) for baud control we do not need
 * from JS, modem lines and port listing. Reads go through node:tty's non-blocking libuv handle, not
 * fs.createReadStream, which would park a threadpool thread in a blocking read (libuv runs file reads on its threadpool: Node docs, UV_THREADPOOL_SIZE).
 */

/** Speeds stty accepts (POSIX + Linux); anything else is a configuration error. */
const SPEEDS = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600])

/** raw 8N1, no echo, no software or hardware flow control, ignore modem control lines, enable the receiver. */
const STTY_FLAGS = [
  'raw',
  '-echo',
  '-echoe',
  '-echok',
  '-echoctl',
  '-echoke',
  '-ixon',
  '-ixoff',
  '-crtscts',
  'cs8',
  '-cstopb',
  '-parenb',
  'clocal',
  'cread',
]

export interface UartOptions {
  /** Line speed (default 9600, what every supported sensor speaks). */
  baud?: number
  /** The stty binary (default `stty` on PATH). */
  stty?: string
}

function explain(path: string, err: NodeJS.ErrnoException): DaneelError {
  const why =
    err.code === 'ENOENT'
      ? 'no such device (is the UART enabled: enable_uart=1, dtoverlay; is the USB adapter plugged in; in a container, is the device mapped: docker-compose.yml devices:?)'
      : err.code === 'EACCES' || err.code === 'EPERM'
        ? 'permission denied (add the user to the dialout group)'
        : err.code === 'EBUSY'
          ? 'device busy (a serial console or getty holds it: remove console=serial0 from cmdline.txt)'
          : err.message
  return new DaneelError('ERR_UART', `cannot open ${path}: ${why}`, { cause: err })
}

function runStty(stty: string, path: string, baud: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(stty, ['-F', path, String(baud), ...STTY_FLAGS], { timeout: 5000 }, (err, _out, stderr) => {
      if (err === null) return resolve()
      const msg = String(stderr).trim() || err.message
      reject(new DaneelError('ERR_UART', `cannot configure ${path} with stty: ${msg}`, { cause: err }))
    })
  })
}

/** A tty opened as a `Uart`. Two fds (read, write) so each libuv handle owns and closes its own. */
export class LinuxUart implements Uart {
  readonly path: string
  private readonly rs: ReadStream
  private readonly ws: WriteStream
  private data: DataListener | null = null
  private error: ErrorListener | null = null
  private closed = false

  constructor(path: string, readFd: number, writeFd: number) {
    this.path = path
    this.rs = new ReadStream(readFd)
    this.ws = new WriteStream(writeFd)
    // Keep reading even with no listener, so stale frames do not pile up in the kernel buffer.
    this.rs.on('data', (chunk: Buffer) => this.data?.(chunk))
    const onErr = (err: Error): void => {
      if (this.closed) return
      this.error?.(new DaneelError('ERR_UART', `${path}: ${err.message}`, { cause: err }))
    }
    this.rs.on('error', onErr)
    // A serial line never ends by itself: EOF means the device went away (USB adapter unplugged, pty master closed).
    this.rs.on('end', () => onErr(new Error('end of stream: the device went away')))
    this.ws.on('error', onErr)
    // A serial line must not keep the process alive by itself; the loop's own timers do.
    this.rs.unref()
    this.ws.unref()
  }

  onData(listener: DataListener | null): void {
    this.data = listener
  }

  onError(listener: ErrorListener | null): void {
    this.error = listener
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return
    this.ws.write(bytes)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.data = null
    this.rs.destroy()
    this.ws.destroy()
  }
}

/** Open `path` (e.g. /dev/ttyAMA0, /dev/serial0, /dev/ttyUSB0) at `baud`, raw 8N1. Throws ERR_UART with the reason. */
export async function openUart(path: string, opts: UartOptions = {}): Promise<LinuxUart> {
  const baud = opts.baud ?? 9600
  if (!SPEEDS.has(baud)) throw new DaneelError('ERR_UART', `unsupported speed ${baud} for ${path}`)
  let readFd = -1
  let writeFd = -1
  try {
    const flags = constants.O_NOCTTY | constants.O_NONBLOCK
    readFd = openSync(path, constants.O_RDONLY | flags)
    if (!isatty(readFd)) throw new DaneelError('ERR_UART', `${path} is not a terminal device`)
    writeFd = openSync(path, constants.O_WRONLY | flags)
    // Configure only once we know the device exists and is a terminal (clearer errors than stty's).
    await runStty(opts.stty ?? 'stty', path, baud)
    return new LinuxUart(path, readFd, writeFd)
  } catch (err) {
    if (readFd >= 0) closeSync(readFd)
    if (writeFd >= 0) closeSync(writeFd)
    if (err instanceof DaneelError) throw err
    throw explain(path, err as NodeJS.ErrnoException)
  }
}

/**
 * Opens `path` at `baud` (raw 8N1), writes `bytes` with a blocking write and closes it: for a one-off command from a
 * short-lived process (`daneel sensor calibrate`), where LinuxUart's unref'd, asynchronous handle could be torn down
 * before its write reached the kernel. Closing a tty waits for its output to drain. Throws ERR_UART with the reason.
 */
export async function writeUartOnce(path: string, bytes: Uint8Array, opts: UartOptions = {}): Promise<void> {
  const baud = opts.baud ?? 9600
  if (!SPEEDS.has(baud)) throw new DaneelError('ERR_UART', `unsupported speed ${baud} for ${path}`)
  let probe = -1
  let fd = -1
  try {
    // Non-blocking first: without CLOCAL, opening a serial line waits for carrier (DCD), which a sensor never raises.
    probe = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK)
    if (!isatty(probe)) throw new DaneelError('ERR_UART', `${path} is not a terminal device`)
    await runStty(opts.stty ?? 'stty', path, baud) // sets clocal: the blocking open below returns at once
    fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY)
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
  } catch (err) {
    if (err instanceof DaneelError) throw err
    throw explain(path, err as NodeJS.ErrnoException)
  } finally {
    if (fd >= 0) closeSync(fd)
    if (probe >= 0) closeSync(probe)
  }
}
