/** The DEF CON 29 workshop at test time: identities by its generate_selfsigned_identity.sh, messages by its encode.py, read by its decode.py. */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { repoPath } from './paths.js'

/*
 * The workshop's own code (ux00c6/message-security-workshop, BSD-3-Clause) is kept unchanged under
 * test/fixtures/workshop/message-security-workshop/ and run here: its identity script with openssl, its message
 * scripts with Debian's python3-jwcrypto. Every key is made in the caller's temp dir; none is committed.
 */
const WS = repoPath('test/fixtures/workshop/message-security-workshop')
const IDENTITY_SCRIPT = join(WS, 'applications/identity-manager/src/generate_selfsigned_identity.sh')
const MESSAGE_LIB = join(WS, 'shared_libs/message')

/** The texts encode.py seals for the tests: a JSON reading and a text that is not JSON. */
export const WORKSHOP_TEXTS = ['{"pm25":12.3,"note":"hello from encode.py"}', 'plain text, not JSON'] as const

export interface WorkshopFixture {
  /** IDENTITY_DIR: `<name>.key.pem` (mode 0600) and `<name>.cert.pem` of both identities, as the workshop lays them out. */
  dir: string
  sender: string
  recipient: string
  /** Messages from sender to recipient, made by encode.py. */
  messages: { text: string; sealed: string }[]
  cert(name: string): string
  key(name: string): string
}

/** A python3 with jwcrypto (Debian's python3-jwcrypto, scripts/install-test-deps.sh). */
export function workshopPython(): string {
  for (const p of ['/usr/bin/python3', 'python3']) if (spawnSync(p, ['-c', 'import jwcrypto'], { encoding: 'utf8' }).status === 0) return p
  throw new Error('no python3 with jwcrypto: run scripts/install-test-deps.sh (Debian python3-jwcrypto)')
}

function check(what: string, r: ReturnType<typeof spawnSync>): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${String(r.stderr)}${String(r.stdout)}`)
  return String(r.stdout)
}

/** Makes identity `name` in `dir` with the workshop's generate_selfsigned_identity.sh (RSA, self-signed, 365 days). */
export function workshopIdentity(dir: string, name: string): void {
  // umask 077: the script writes the key with `>`; a key readable by others is refused by our loader
  check(
    `generate_selfsigned_identity.sh ${name}`,
    spawnSync('bash', ['-c', 'umask 077 && exec bash "$0"', IDENTITY_SCRIPT], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', IDENTITY_DIR: dir, IDENTITY_NAME: name },
    }),
  )
}

const pythonEnv = (dir: string, self: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  IDENTITY_DIR: dir,
  IDENTITY_NAME: self,
  PYTHONPATH: MESSAGE_LIB,
  PYTHONDONTWRITEBYTECODE: '1', // nothing written into the repository
})

/** `encode.py RECIPIENT MESSAGE` as `from` (its key and the recipient's `<name>.cert.pem` in `dir`): the base64 line. */
export function workshopEncode(dir: string, from: string, to: string, text: string): string {
  const r = spawnSync(workshopPython(), ['-m', 'message.scripts.encode', to, text], { encoding: 'utf8', env: pythonEnv(dir, from) })
  return check('encode.py', r).trim()
}

/** `decode.py MESSAGE` as `self` (no DNS: the sender's certificate must be in `dir`); exit status and output. */
export function workshopDecode(dir: string, self: string, message: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(workshopPython(), ['-m', 'message.scripts.decode', message, '--idgetter', '/bin/false'], {
    encoding: 'utf8',
    env: pythonEnv(dir, self),
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Both identities (workshop names under workshop._device.example.test) and encode.py's messages, in `dir`. */
export function makeWorkshopFixture(dir: string): WorkshopFixture {
  const sender = 'ws1.workshop._device.example.test'
  const recipient = 'gw.workshop._device.example.test'
  for (const name of [sender, recipient]) workshopIdentity(dir, name)
  return {
    dir,
    sender,
    recipient,
    messages: WORKSHOP_TEXTS.map((text) => ({ text, sealed: workshopEncode(dir, sender, recipient, text) })),
    cert: (name) => join(dir, `${name}.cert.pem`),
    key: (name) => join(dir, `${name}.key.pem`),
  }
}
