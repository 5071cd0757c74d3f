/** Alert delivery: `--notify-cmd CMD` (the message on its stdin) and `--webhook URL` (a JSON POST), each with a deadline. */
import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { DaneelError } from '../../src/errors.js'

const TIMEOUT_MS = 10_000

/** Runs CMD through /bin/sh with `text` on stdin; rejects when it exits non-zero or hangs. */
export function runNotifyCommand(cmd: string, text: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'ignore', 'pipe'], env })
    let err = ''
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 2000) err += b.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new DaneelError('ERR_MONITOR', `--notify-cmd could not run: ${e.message}`, { cause: e }))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new DaneelError('ERR_MONITOR', `--notify-cmd exited ${code ?? signal}: ${err.trim().slice(0, 200)}`))
    })
    child.stdin.on('error', () => {}) // a command that does not read its stdin is fine
    child.stdin.end(text)
  })
}

/** POSTs `body` as JSON; any 2xx is success. */
export function postWebhook(url: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    let u: URL
    try {
      u = new URL(url)
    } catch (e) {
      reject(new DaneelError('ERR_USAGE', `--webhook is not a URL: ${url}`, { cause: e }))
      return
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new DaneelError('ERR_USAGE', `--webhook must be http(s), not ${u.protocol}`))
      return
    }
    const data = Buffer.from(JSON.stringify(body))
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(data.length) },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume()
        const code = res.statusCode ?? 0
        if (code >= 200 && code < 300) resolve()
        else reject(new DaneelError('ERR_MONITOR', `--webhook answered HTTP ${code}`))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)))
    req.on('error', (e) => reject(new DaneelError('ERR_MONITOR', `--webhook failed: ${e.message}`, { cause: e })))
    req.end(data)
  })
}
