/** The one free-port finder of the tests and benches (a loopback port free for both TCP and UDP right now), and a TCP probe. */
import { createSocket } from 'node:dgram'
import { connect, createServer } from 'node:net'

/** A port free for both TCP and UDP on 127.0.0.1 right now (the caller still retries: another test may take it). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address()
        srv.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0))
      })
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4')
      sock.once('error', () => resolve(false))
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)))
    })
    if (udpFree && port !== 0) return port
  }
  throw new Error('no free port found')
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` right now (the connection is closed at once). */
export async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
